// The gateway's own 502/503/504 in each API's wire shape: what each client library parses as an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { sendUpstreamFailure, styleFor, type UpstreamFailure } from './errors.js';
import type { Service } from './routes.js';

function capture(status: UpstreamFailure, service: Service, path: string) {
  let head: { status: number; headers: string[] } | undefined;
  let body = '';
  const res = {
    writeHead: (s: number, h: string[]) => void (head = { status: s, headers: h }),
    end: (b: string) => void (body = b),
  } as unknown as ServerResponse;
  sendUpstreamFailure(res, status, service, path, ['x-request-id', 'r1']);
  const headers = new Map<string, string>();
  for (let i = 0; i < head!.headers.length; i += 2) headers.set(head!.headers[i], head!.headers[i + 1]);
  return { status: head!.status, headers, json: JSON.parse(body) };
}

test('each API gets its own error shape', () => {
  const storage = capture(503, 'storage', '/storage/v1/object/x');
  assert.deepEqual(Object.keys(storage.json), ['statusCode', 'error', 'message']);
  assert.equal(storage.json.statusCode, '503');
  const openai = capture(503, 'ai-gateway', '/v1/chat/completions');
  assert.equal(openai.json.error.type, 'service_unavailable');
  const anthropic = capture(503, 'ai-gateway', '/v1/messages');
  assert.deepEqual(anthropic.json.type, 'error');
  assert.equal(anthropic.json.error.type, 'overloaded_error');
  assert.equal(capture(504, 'ai-gateway', '/v1/messages?beta=true').json.error.type, 'timeout_error');
  assert.equal(capture(503, 'memory', '/v1/memories/').json.detail, 'The memory service is unavailable; retry shortly');
  assert.equal(styleFor('rest', '/rest/v1/x'), 'postgrest');
});

test('503 carries Retry-After; 502 and 504 do not', () => {
  const down = capture(503, 'rest', '/rest/v1/todos');
  assert.equal(down.status, 503);
  assert.equal(down.headers.get('retry-after'), '5');
  assert.equal(down.headers.get('x-request-id'), 'r1');
  const slow = capture(504, 'rest', '/rest/v1/todos');
  assert.equal(slow.status, 504);
  assert.equal(slow.headers.get('retry-after'), undefined);
  assert.equal(slow.json.code, 'upstream_timeout');
  const bad = capture(502, 'rest', '/rest/v1/todos');
  assert.equal(bad.status, 502);
  assert.equal(bad.headers.get('retry-after'), undefined);
  assert.deepEqual(bad.json, { code: 'bad_gateway', message: 'The rest service sent an answer that could not be forwarded', details: null, hint: null });
  assert.equal(capture(502, 'ai-gateway', '/v1/messages').json.error.type, 'api_error');
});
