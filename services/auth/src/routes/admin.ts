// The admin API, service_role only (403 not_admin for anyone else).
//   GET    /admin/users?page=&per_page=        {users, aud} + X-Total-Count + Link
//   POST   /admin/users                        create
//   GET|PUT|DELETE /admin/users/:id            get, update, delete {should_soft_delete}
//   GET    /admin/users/:id/factors            factors
//   DELETE /admin/users/:id/factors/:factorId  remove a factor
//   POST   /admin/generate_link                links without sending mail
//   POST   /invite                             invite by email
import { Router, type Request } from 'express';
import { createUser, deleteUser, getUserById, listUsers, updateUserById } from '../domain/admin.js';
import { generateLink, invite } from '../domain/email-flows.js';
import { deleteFactorAsAdmin } from '../domain/mfa.js';
import { requireAdmin } from '../domain/principal.js';
import { redirectTarget } from '../domain/redirect.js';
import { factorJson, userJson } from '../domain/user-json.js';
import type { RouteDeps } from './deps.js';

export function adminRoutes({ pw }: RouteDeps): Router {
  const r = Router();
  const admin = (req: Request) => requireAdmin(req.ctx, req.headers);
  r.use('/admin', (req, _res, next) => {
    admin(req);
    next();
  });
  r.get('/admin/users', async (req, res) => {
    const { page, perPage, total, users } = await listUsers(req.ctx, req.query.page, req.query.per_page);
    const last = Math.max(1, Math.ceil(total / perPage));
    // auth-js reads the page number right after the first '=' of each link: page= must come first.
    const link = (n: number, rel: string) => `<${req.ctx.authUrl}/admin/users?page=${n}&per_page=${perPage}>; rel="${rel}"`;
    const links = [...(page < last ? [link(page + 1, 'next')] : []), link(last, 'last')];
    res.setHeader('x-total-count', String(total));
    res.setHeader('link', links.join(', '));
    res.json({ users, aud: 'authenticated' });
  });
  r.post('/admin/users', async (req, res) => void res.json(await createUser(req.ctx, pw, req.body ?? {})));
  r.get('/admin/users/:id', async (req, res) => void res.json(userJson(await getUserById(req.ctx, req.params.id))));
  r.put('/admin/users/:id', async (req, res) => void res.json(await updateUserById(req.ctx, pw, req.params.id, req.body ?? {})));
  r.delete('/admin/users/:id', async (req, res) => {
    await deleteUser(req.ctx, req.params.id, req.body?.should_soft_delete === true);
    res.json({});
  });
  r.get('/admin/users/:id/factors', async (req, res) => void res.json((await getUserById(req.ctx, req.params.id)).factors.map(factorJson)));
  r.delete('/admin/users/:id/factors/:factorId', async (req, res) => void res.json(await deleteFactorAsAdmin(req.ctx, req.params.id, req.params.factorId)));
  r.post('/admin/generate_link', async (req, res) => void res.json(await generateLink(req.ctx, pw, req.body ?? {}, redirectTarget(req.ctx, req.body?.redirect_to ?? req.query.redirect_to))));
  r.post('/invite', async (req, res) => {
    admin(req);
    res.json(await invite(req.ctx, req.body ?? {}, redirectTarget(req.ctx, req.query.redirect_to)));
  });
  return r;
}
