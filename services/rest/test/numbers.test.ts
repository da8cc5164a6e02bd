// Numbers in a request (limit, offset, Range, Prefer: max-affected, a JSON path index) past what their Postgres type
// holds: PostgREST binds them (bigint, int) and Postgres answers 22003; they were read through Number() and spelled
// into the SQL as `Infinity` (a 42703) or `1e+21` (a syntax error), or rounded past bigint on the way.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, type TestProject } from '@basalt/testkit';
import { raw } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('rest-numbers');
  await p.sql(`create table parent (id int primary key, data jsonb);
    create table child (id int primary key, parent_id int references parent);
    create policy r on parent for select using (true);
    create policy r on child for select using (true);
    insert into parent values (1, '[10, 20]');
    insert into child values (1, 1), (2, 1);`);
});

const HUGE = '9'.repeat(400);
const BIGINT_MAX = '9223372036854775807';
const PAST_BIGINT = '9223372036854775808';

/** Postgres' answer to a number its type cannot hold, as PostgREST passes it on. */
function outOfRange(r: Awaited<ReturnType<typeof raw>>, value: string, type: 'bigint' | 'integer'): void {
  assert.equal(r.status, 400, r.text.slice(0, 300));
  assert.deepEqual(r.body, { code: '22003', message: `value "${value}" is out of range for type ${type}`, details: null, hint: null });
}

const OUT_OF_RANGE: [string, string, Record<string, string>, string, 'bigint' | 'integer'][] = [
  ['offset of 400 digits', `/parent?offset=${HUGE}`, {}, HUGE, 'bigint'],
  ['offset one past bigint', `/parent?offset=${PAST_BIGINT}`, {}, PAST_BIGINT, 'bigint'],
  ['offset of 22 digits (was spelled 1e+21)', `/parent?offset=1${'0'.repeat(21)}`, {}, `1${'0'.repeat(21)}`, 'bigint'],
  ['offset past bigint behind leading zeros', `/parent?offset=000${PAST_BIGINT}`, {}, PAST_BIGINT, 'bigint'],
  ['limit of 400 digits', `/parent?limit=${HUGE}`, {}, HUGE, 'bigint'],
  ['embedded limit of 400 digits', `/parent?select=*,child(*)&child.limit=${HUGE}`, {}, HUGE, 'bigint'],
  ['embedded offset of 400 digits', `/parent?select=*,child(*)&child.offset=${HUGE}`, {}, HUGE, 'bigint'],
  ['Range start of 400 digits', '/parent', { range: `${HUGE}-` }, HUGE, 'bigint'],
  ['Range whose length passes bigint', '/parent', { range: `0-${BIGINT_MAX}` }, PAST_BIGINT, 'bigint'],
  ['Range with items= and Range-Unit', '/parent', { range: `items=${HUGE}-`, 'range-unit': 'items' }, HUGE, 'bigint'],
  ['JSON path index of 400 digits', `/parent?select=data->${HUGE}`, {}, `+${HUGE}`, 'integer'],
  ['JSON path index one past int', '/parent?select=data->2147483648', {}, '+2147483648', 'integer'],
  ['negative JSON path index one past int', '/parent?select=data->>-2147483649', {}, '-2147483649', 'integer'],
  ['JSON path index past int in a filter', '/parent?data->99999999999=eq.1', {}, '+99999999999', 'integer'],
];

for (const [name, path, headers, value, type] of OUT_OF_RANGE) {
  test(`${name}: 400 22003, as Postgres answers PostgREST`, async () => outOfRange(await raw(p, path, { headers }), value, type));
}

test('an offset of bigint\'s largest value is an empty page, and past the end with a count its exact 416', async () => {
  const page = await raw(p, `/parent?offset=${BIGINT_MAX}`);
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(page.body, []);
  const counted = await raw(p, `/parent?offset=${BIGINT_MAX}`, { headers: { prefer: 'count=exact' } });
  assert.equal(counted.status, 416, counted.text);
  assert.equal(counted.body.details, `An offset of ${BIGINT_MAX} was requested, but there are only 1 rows.`);
});

test('a Range start of bigint\'s largest value is an empty page', async () => {
  const r = await raw(p, '/parent', { headers: { range: `${BIGINT_MAX}-` } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, []);
});

test('JSON path indexes at int\'s ends are still array indexes', async () => {
  const r = await raw(p, '/parent?select=a:data->1,b:data->-1,c:data->-2147483648,d:data->>2147483647');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, [{ a: 20, b: 20, c: null, d: null }]);
});

test('leading zeros are still the number they spell', async () => {
  const r = await raw(p, `/child?select=id&order=id&offset=${'0'.repeat(400)}1`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, [{ id: 2 }]);
});

test('a Range whose end is before its start is PostgREST\'s LowerGTUpper', async () => {
  const r = await raw(p, '/parent', { headers: { range: '5-1' } });
  assert.equal(r.status, 416, r.text);
  assert.equal(r.body.code, 'PGRST103');
  assert.equal(r.body.details, 'The lower boundary must be lower than or equal to the upper boundary in the Range header.');
});

test('max-affected past bigint is an invalid preference under handling=strict', async () => {
  const r = await raw(p, '/child?id=eq.1', { method: 'PATCH', bearer: p.serviceKey, json: { parent_id: 1 }, headers: { prefer: `handling=strict, max-affected=${HUGE}` } });
  assert.equal(r.status, 400, r.text.slice(0, 300));
  assert.equal(r.body.code, 'PGRST122');
  assert.equal(r.body.details, `Invalid preferences: max-affected=${HUGE}`);
});

test('max-affected of bigint\'s largest value is applied and echoed exactly', async () => {
  const r = await raw(p, '/child?id=eq.1', { method: 'PATCH', bearer: p.serviceKey, json: { parent_id: 1 }, headers: { prefer: `handling=strict, max-affected=${BIGINT_MAX}` } });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.headers.get('preference-applied'), `handling=strict, max-affected=${BIGINT_MAX}`);
});
