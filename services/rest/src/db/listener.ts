// One LISTEN pgrst connection per cached project: the tenant template's event trigger NOTIFYs it on DDL,
// and `NOTIFY pgrst, 'reload schema'` by hand does the same, for every replica at once.
import pg from 'pg';

export async function listenSchemaChanges(connectionString: string, onReload: () => void, onLost: () => void): Promise<pg.Client> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000, application_name: 'basalt-rest-listen' });
  client.on('notification', (n) => {
    if (n.channel === 'pgrst' && (!n.payload || n.payload === 'reload schema')) onReload();
  });
  client.on('error', () => onLost());
  client.on('end', () => onLost());
  await client.connect();
  await client.query('listen pgrst');
  return client;
}
