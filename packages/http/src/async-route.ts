// Express 5 forwards rejected promises to the error middleware itself; this keeps route files typed and terse.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const asyncRoute =
  (fn: (req: Request, res: Response, next: NextFunction) => Promise<unknown>): RequestHandler =>
  (req, res, next) =>
    void fn(req, res, next).catch(next);
