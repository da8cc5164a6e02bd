// /platform/v1/tokens: issue, list, revoke platform tokens.
//   POST   /tokens        {name, projects?, expires_in_days?} → 201 {id, name, token, …} (the only time the token is shown)
//   GET    /tokens
//   DELETE /tokens/:id
import { Router } from 'express';
import { z } from 'zod';
import type { TokensDomain } from '../domain/tokens.js';
import { platformErrors } from '../errors.js';

const IssueToken = z
  .object({
    name: z.string().trim().min(1).max(128),
    projects: z.array(z.string().regex(/^[a-z]{20}$/)).max(1000).optional(),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .strict();

export function tokenRoutes(tokens: TokensDomain): Router {
  const r = Router();
  r.post('/tokens', async (req, res) => {
    // A scoped token cannot mint tokens: that would let it widen its own scope.
    if (req.platform.projectRefs !== null) throw platformErrors.forbiddenProject('(tokens)');
    const body = IssueToken.safeParse(req.body ?? {});
    if (!body.success) throw platformErrors.validation(body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    res.status(201).json(await tokens.issue({ name: body.data.name, projectRefs: body.data.projects, expiresInDays: body.data.expires_in_days }));
  });
  r.get('/tokens', async (req, res) => {
    if (req.platform.projectRefs !== null) throw platformErrors.forbiddenProject('(tokens)');
    res.json(await tokens.list());
  });
  r.delete('/tokens/:id', async (req, res) => {
    if (req.platform.projectRefs !== null) throw platformErrors.forbiddenProject('(tokens)');
    await tokens.revoke(req.params.id);
    res.status(204).end();
  });
  return r;
}
