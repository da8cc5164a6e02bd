// The S3 endpoint with another S3 client than the JavaScript SDK: the AWS CLI (botocore signs, encodes and splits
// multipart uploads its own way), through the gateway, path-style. Skipped where the `aws` command is not installed.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject, platform, testEnv, type TestProject } from '@basalt/testkit';

const hasAws = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
})();

let p: TestProject;
let envVars: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'basalt-aws-cli-'));

before(async () => {
  if (!hasAws) return;
  p = await createProject('s3-cli');
  const key = await platform<{ access_key_id: string; secret_access_key: string }>(`/projects/${p.ref}/storage/s3-keys`, { method: 'POST', json: {} });
  const config = join(dir, 'config');
  writeFileSync(config, '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n');
  envVars = {
    PATH: process.env.PATH ?? '', HOME: dir, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    AWS_ACCESS_KEY_ID: key.access_key_id, AWS_SECRET_ACCESS_KEY: key.secret_access_key, AWS_EC2_METADATA_DISABLED: 'true',
  };
});

const aws = (...args: string[]) => new Promise<string>((resolve, reject) => {
  execFile('aws', ['--endpoint-url', `${testEnv().gatewayUrl}/project/${p.ref}/storage/v1/s3`, ...args], { env: envVars, timeout: 60_000 }, (err, stdout, stderr) =>
    (err ? reject(new Error(`aws ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
});

test('the AWS CLI makes a bucket, copies files up and down (multipart past 8 MB), lists, syncs and removes', { skip: !hasAws && 'aws CLI not installed' }, async () => {
  await aws('s3', 'mb', 's3://cli');
  const small = join(dir, 'small.txt');
  writeFileSync(small, 'small file, spaces & symbols (1).txt');
  const big = join(dir, 'big.bin');
  const bytes = randomBytes(9 * 1024 * 1024 + 17);
  writeFileSync(big, bytes);
  await aws('s3', 'cp', small, 's3://cli/dir one/small (1).txt');
  await aws('s3', 'cp', big, 's3://cli/dir one/big.bin');
  const listing = await aws('s3', 'ls', '--recursive', 's3://cli');
  assert.match(listing, /dir one\/small \(1\)\.txt/);
  assert.match(listing, new RegExp(`${bytes.length} dir one/big\\.bin`));
  await aws('s3', 'cp', 's3://cli/dir one/big.bin', join(dir, 'back.bin'));
  assert.ok(readFileSync(join(dir, 'back.bin')).equals(bytes));
  const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli', '--key', 'dir one/big.bin'));
  assert.match(head.ETag, /-2"$/); // joined from two parts
  await aws('s3', 'sync', 's3://cli/dir one', join(dir, 'synced'));
  assert.equal(readFileSync(join(dir, 'synced', 'small (1).txt'), 'utf8'), 'small file, spaces & symbols (1).txt');
  await aws('s3', 'rm', '--recursive', 's3://cli/dir one');
  assert.equal((await aws('s3', 'ls', '--recursive', 's3://cli')).trim(), '');
  await aws('s3', 'rb', 's3://cli');
});
