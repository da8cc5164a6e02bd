// Search: hybrid ranking over the fake model's embeddings and full text, top_k and threshold, keyword search
// without an embedding model, and mem0's filter tree with every operator (unknown ones are a 400 naming them).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memProject, type MemProject } from './setup.js';

let p: MemProject;
let kw: MemProject;
const SEED = [
  { text: 'Ana cooks spicy ramen on Fridays', user: 's1', agent: 'chef', meta: { topic: 'food', score: 3 }, cats: ['food', 'habits'] },
  { text: 'Ana is allergic to peanuts', user: 's1', meta: { topic: 'health', score: 9 }, cats: ['health'] },
  { text: 'Ana runs a marathon in October', user: 's1', meta: { topic: 'sport', score: 5 }, cats: ['sport'] },
  { text: 'Ben prefers green tea over coffee', user: 's2', agent: 'barista', meta: { topic: 'food', score: 1 }, cats: ['food'] },
];

before(async () => {
  [p, kw] = await Promise.all([memProject('mem-search'), memProject('mem-search-kw', { models: 'none', settings: { text_search_config: 'english' } })]);
  for (const target of [p, kw]) {
    const c = target.client();
    for (const s of SEED) {
      await c.add([{ role: 'user', content: s.text }], { userId: s.user, agentId: s.agent, metadata: s.meta, categories: s.cats, infer: false } as any);
    }
  }
});
after(async () => {
  await p?.close();
  await kw?.close();
});

test('semantic search ranks the closest memory first, with a score; top_k and threshold bound the answer', async () => {
  const c = p.client();
  const r = await c.search('what about peanuts allergy', { filters: { user_id: 's1' } }) as any;
  assert.equal(r.results[0].memory, 'Ana is allergic to peanuts');
  assert.ok(r.results[0].score > 0 && r.results[0].score <= 1);
  assert.ok(r.results.every((m: any, i: number, all: any[]) => i === 0 || all[i - 1].score >= m.score));
  assert.ok(r.results.every((m: any) => m.userId === 's1'));
  const one = await c.search('Ana', { filters: { user_id: 's1' }, topK: 1 }) as any;
  assert.equal(one.results.length, 1);
  const strict = await c.search('peanuts allergic', { filters: { user_id: 's1' }, threshold: 0.6 }) as any;
  assert.deepEqual(strict.results.map((m: any) => m.memory), ['Ana is allergic to peanuts']);
});

test('keyword search works with no embedding model (ts_rank_cd, english stemming)', async () => {
  const c = kw.client();
  const r = await c.search('cooking ramen', { filters: { user_id: 's1' } }) as any;
  assert.equal(r.results[0].memory, 'Ana cooks spicy ramen on Fridays');
  const none = await c.search('volcano', { filters: { user_id: 's1' } }) as any;
  assert.deepEqual(none.results, []);
});

test('keyword ranks are ts_rank_cd over the query\'s lexemes joined by |, also where one position holds two of them', async () => {
  const c = kw.client();
  const seed = ['tea tea tea in the garden', 'tea garden', 'a quiet garden', 'green tea', 'black coffee', 'garden tea garden tea'];
  for (const text of seed) await c.add([{ role: 'user', content: text }], { userId: 'rank', infer: false });
  await c.add([{ role: 'user', content: 'shared position' }], { userId: 'rank', infer: false });
  // a position holding both lexemes, as some dictionaries produce
  await kw.project.sql(`update memory.memories set tsv = 'tea:1 garden:1'::tsvector where memory = 'shared position'`);
  for (const query of ['tea garden', 'garden tea tea', 'coffee']) {
    const expected = await kw.project.sql<{ memory: string; rank: number }>(`select memory, ts_rank_cd(tsv, replace(plainto_tsquery('english', '${query}')::text, ' & ', ' | ')::tsquery, 32)::float8 as rank
      from memory.memories where user_id = 'rank' and tsv @@ replace(plainto_tsquery('english', '${query}')::text, ' & ', ' | ')::tsquery`);
    const max = Math.max(...expected.map((e) => e.rank));
    const got = await c.search(query, { filters: { user_id: 'rank' }, topK: 20 }) as any;
    const scores = Object.fromEntries(got.results.map((m: any) => [m.memory, m.score]));
    assert.deepEqual(scores, Object.fromEntries(expected.map((e) => [e.memory, Number((e.rank / max).toFixed(6))])), query);
  }
});

const texts = (r: any) => r.results.map((m: any) => m.memory).sort();

test('every filter operator, in lists and in searches', async () => {
  const c = p.client();
  const cases: [unknown, string[]][] = [
    [{ user_id: 's2' }, ['Ben prefers green tea over coffee']],
    [{ AND: [{ user_id: 's1' }, { metadata: { topic: 'food' } }] }, ['Ana cooks spicy ramen on Fridays']],
    [{ OR: [{ metadata: { topic: 'health' } }, { agent_id: 'barista' }] }, ['Ana is allergic to peanuts', 'Ben prefers green tea over coffee']],
    [{ AND: [{ user_id: 's1' }, { NOT: [{ metadata: { topic: 'food' } }] }] }, ['Ana is allergic to peanuts', 'Ana runs a marathon in October']],
    [{ user_id: { ne: 's1' } }, ['Ben prefers green tea over coffee']],
    [{ user_id: { in: ['s2', 'nobody'] } }, ['Ben prefers green tea over coffee']],
    [{ AND: [{ user_id: 's1' }, { user_id: { nin: ['s2'] } }, { 'metadata.score': { gt: 3 } }] }, ['Ana is allergic to peanuts', 'Ana runs a marathon in October']],
    [{ metadata: { score: { gte: 5, lte: 5 } } }, ['Ana runs a marathon in October']],
    [{ metadata: { score: { lt: 3 } } }, ['Ben prefers green tea over coffee']],
    [{ memory: { contains: 'marathon' } }, ['Ana runs a marathon in October']],
    [{ memory: { icontains: 'GREEN TEA' } }, ['Ben prefers green tea over coffee']],
    [{ agent_id: '*' }, ['Ana cooks spicy ramen on Fridays', 'Ben prefers green tea over coffee']],
    [{ categories: { in: ['health', 'sport'] } }, ['Ana is allergic to peanuts', 'Ana runs a marathon in October']],
    [{ categories: { contains: 'habits' } }, ['Ana cooks spicy ramen on Fridays']],
    [{ AND: [{ user_id: 's2' }, { created_at: { gte: '2020-01-01' } }, { created_at: { lt: '2999-01-01T00:00:00Z' } }] }, ['Ben prefers green tea over coffee']],
    [{ created_at: { gt: '2999-01-01' } }, []],
    [{ keywords: 'marathon' }, ['Ana runs a marathon in October']],
  ];
  for (const [filters, expected] of cases) {
    assert.deepEqual(texts(await c.getAll({ filters } as any)), expected, JSON.stringify(filters));
  }
  const searched = await c.search('ramen or tea', { filters: { AND: [{ metadata: { topic: 'food' } }, { user_id: { in: ['s1', 's2'] } }] } }) as any;
  assert.deepEqual(texts(searched), ['Ana cooks spicy ramen on Fridays', 'Ben prefers green tea over coffee']);
});

test('unknown fields, unknown operators and malformed filters are a 400 naming them', async () => {
  const bad: [unknown, RegExp][] = [
    [{ colour: 'red' }, /Unknown filter field "colour"/],
    [{ user_id: { like: 'x' } }, /Unknown filter operator "like" on field "user_id"/],
    [{ AND: 'x' }, /"AND" needs a non-empty list/],
    [{ user_id: { in: 'x' } }, /needs a non-empty list/],
    [{ created_at: { gt: 'not a date' } }, /needs a date/],
    [['user_id'], /filters must be an object/],
  ];
  for (const [filters, message] of bad) {
    for (const path of ['/v3/memories/', '/v3/memories/search/']) {
      const r = await p.raw(path, { json: { query: 'x', filters } });
      assert.equal(r.status, 400, `${path} ${JSON.stringify(filters)}`);
      assert.match(r.body.detail, message);
    }
  }
  await assert.rejects(p.client().search('x', { filters: { colour: 'red' } } as any), (e: any) => e.name === 'ValidationError' && /colour/.test(e.message));
  const empty = await p.raw('/v3/memories/search/', { json: { query: '   ', filters: { user_id: 's1' } } });
  assert.equal(empty.status, 400);
});

test('/mem/v1 paths answer the same operations', async () => {
  const r = await p.raw('/mem/v1/memories/search', { json: { query: 'marathon', filters: { user_id: 's1' }, top_k: 1 } });
  assert.equal(r.status, 200);
  assert.equal(r.body.results[0].memory, 'Ana runs a marathon in October');
  const listed = await p.raw('/mem/v1/memories?user_id=s2');
  assert.equal(listed.body[0].memory, 'Ben prefers green tea over coffee');
});

test('rerank: with a rerank model each result is scored by it and reordered; a failed or scoreless answer is neutral; without one the order stands', async () => {
  const r = await memProject('mem-rerank', { settings: { rerank_model: 'mem-chat' } });
  try {
    const c = r.client();
    for (const s of SEED.slice(0, 3)) await c.add([{ role: 'user', content: s.text }], { userId: 's1', infer: false } as any);
    // the scorer prefers the marathon, then anything about ramen; the peanut memory gets an answer with no score
    r.fake!.script((call) => {
      if (/marathon/.test(call.user)) return { score: 0.9 };
      if (/ramen/.test(call.user)) return '0.7';
      return 'no idea';
    });
    const plain = await c.search('Ana allergic peanuts', { filters: { user_id: 's1' } }) as any;
    assert.equal(plain.results[0].memory, 'Ana is allergic to peanuts');
    assert.equal(r.fake!.chats.length, 0, 'no model call without rerank');
    const ranked = await r.raw('/v3/memories/search/', { json: { query: 'Ana allergic peanuts', filters: { user_id: 's1' }, rerank: true } });
    assert.equal(ranked.status, 200, JSON.stringify(ranked.body));
    const results = ranked.body.results ?? ranked.body;
    assert.deepEqual(results.map((m: any) => m.memory), ['Ana runs a marathon in October', 'Ana cooks spicy ramen on Fridays', 'Ana is allergic to peanuts']);
    assert.deepEqual(results.map((m: any) => m.rerank_score), [0.9, 0.7, 0.5]);
    assert.ok(results.every((m: any) => typeof m.score === 'number'), 'the retrieval score stays beside it');
    assert.equal(r.fake!.chats.length, 3);
    assert.ok(r.fake!.chats.every((ch) => ch.model === 'mem-chat' && ch.user.includes('Ana allergic peanuts')));
  } finally {
    await r.close();
  }
  // a project without a rerank model: rerank asked for, retrieval order kept, no model called
  const plainProject = p.client();
  const asked = await p.raw('/v3/memories/search/', { json: { query: 'what about peanuts allergy', filters: { user_id: 's1' }, rerank: true } });
  assert.equal(asked.status, 200);
  const before = await plainProject.search('what about peanuts allergy', { filters: { user_id: 's1' } }) as any;
  assert.deepEqual((asked.body.results ?? asked.body).map((m: any) => m.id), before.results.map((m: any) => m.id));
});
