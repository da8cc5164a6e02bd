# One image for the whole fleet, running the built bundles (npm run build) on Node 24 without tsx; each
# Deployment / compose service picks its bundle as the argument (see docker-compose.yml and k8s/), e.g.
#   docker run ghcr.io/basalt-dev/basalt:0.1.0 --enable-source-maps dist/rest.mjs

# Build: the whole workspace with dev dependencies, bundled into dist/; then only production dependencies are
# kept (dist/node_modules links into node_modules/.pnpm, so a link that breaks here names a missing dependency).
# Same Node and Debian as the runtime, so native packages (sharp, bcrypt, workerd) are installed for it.
FROM node:24-bookworm-slim AS build
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN corepack enable
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm run build \
  && pnpm install --frozen-lockfile --prod --offline --config.confirmModulesPurge=false \
  && broken="$(find dist/node_modules -xtype l)" \
  && if [ -n "$broken" ]; then echo "not installed for production: $broken" >&2; exit 1; fi

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# pg_dump and pg_restore for project backups (the platform service): 17 from the PostgreSQL project's repository,
# since a pg_dump refuses servers newer than itself and Debian's is 15 (found in /usr/lib/postgresql/17/bin)
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tini postgresql-common \
  && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
  && apt-get install -y --no-install-recommends postgresql-client-17 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# code stays root's (read-only to the service); .basalt is where a file-backed storage writes by default
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir .basalt && chown 10001:10001 .basalt
USER 10001
EXPOSE 8000
ENTRYPOINT ["tini", "--", "node"]
CMD ["--enable-source-maps", "dist/gateway.mjs"]
