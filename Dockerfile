# One image for the whole fleet; each Deployment / compose service picks its entry point as the argument,
# e.g. `docker run ghcr.io/basalt-dev/basalt:0.1.0 services/rest/src/main.ts`.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN corepack enable && apt-get update && apt-get install -y --no-install-recommends ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && chown -R 10001:10001 /app
USER 10001
EXPOSE 8000
ENTRYPOINT ["tini", "--", "node", "--import", "tsx"]
CMD ["gateway/src/main.ts"]
