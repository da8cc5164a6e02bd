// S3 protocol access keys: issued per project with the secret shown once and kept sealed (SigV4 verification
// needs it back), listed without secrets, revoked by id. A key acts as the service role (RLS bypassed), as
// Supabase's S3 access keys do.
import { randomBytes } from 'node:crypto';
import type { SecretBox } from '@basalt/crypto';
import { BasaltError } from '@basalt/errors';
import type { S3KeysDb, S3KeyRow } from '../db/s3-keys.js';

/** as Supabase caps a project's credentials */
export const MAX_KEYS_PER_PROJECT = 50;

export const keyErrors = {
  tooMany: () => new BasaltError(400, 'MaximumCredentialsLimit', 'You have reached the maximum number of credentials allowed'),
  notFound: () => new BasaltError(404, 'not_found', 'S3 access key not found'),
  badDescription: () => new BasaltError(400, 'invalid_request', 'description must be a string of at most 200 characters'),
};

const publicJson = (r: S3KeyRow) => ({ id: r.access_key_id, access_key_id: r.access_key_id, description: r.description, created_at: r.created_at });

export function s3KeysDomain(db: S3KeysDb, box: SecretBox) {
  return {
    async issue(ref: string, body: Record<string, unknown>) {
      const description = body.description ?? '';
      if (typeof description !== 'string' || description.length > 200) throw keyErrors.badDescription();
      if ((await db.count(ref)) >= MAX_KEYS_PER_PROJECT) throw keyErrors.tooMany();
      const accessKeyId = randomBytes(16).toString('hex');
      const secret = randomBytes(32).toString('hex');
      const row = await db.insert({ access_key_id: accessKeyId, ref, secret_sealed: box.encrypt(secret), description });
      return { ...publicJson(row), secret_access_key: secret };
    },
    list: async (ref: string) => (await db.list(ref)).map(publicJson),
    async revoke(ref: string, id: string) {
      if (!(await db.remove(ref, id))) throw keyErrors.notFound();
    },
    /** the secret of an access key of this project, or null */
    async secretOf(ref: string, accessKeyId: string): Promise<string | null> {
      if (!/^[0-9a-f]{32}$/.test(accessKeyId)) return null;
      const row = await db.find(ref, accessKeyId);
      return row ? box.decrypt(row.secret_sealed) : null;
    },
  };
}

export type S3KeysDomain = ReturnType<typeof s3KeysDomain>;
