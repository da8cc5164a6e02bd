// A project database reached directly (as the documents service reaches it: role basalt_admin) for engine tests.
import pg from 'pg';
import { EJSON } from 'bson';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';
import { Documents } from '../src/domain/documents.js';
import { serviceGuard } from '../src/domain/guard.js';

export interface EngineDb {
  project: TestProject;
  client: pg.Client;
  docs: Documents;
  close: () => Promise<void>;
}

export async function engineDb(name: string): Promise<EngineDb> {
  const project = await createProject(name);
  const url = new URL(testEnv().databaseUrl);
  url.pathname = `/proj_${project.ref}`;
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => undefined); // the project's database is dropped when the file ends
  await client.connect();
  await client.query('set role basalt_admin');
  return { project, client, docs: new Documents(client, serviceGuard, { maxPage: 1000, maxScan: 200_000 }), close: () => client.end() };
}

/** EJSON (canonical or relaxed) text → BSON values, as the HTTP API parses bodies */
export const ej = (v: unknown) => EJSON.deserialize(JSON.parse(JSON.stringify(v)), { relaxed: false });
/** BSON values → relaxed EJSON plain data, for deepEqual */
export const plain = (v: unknown) => JSON.parse(EJSON.stringify(v, { relaxed: true }));
