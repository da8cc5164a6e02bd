// Frame codecs against realtime-js's own serializer: what it encodes we decode, what we encode it decodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import SerializerModule from '@supabase/realtime-js/dist/module/lib/serializer.js';
import { decodeBinary, decodeText, encodeText, encodeUserBroadcast, isBinaryBroadcast } from './frames.js';

interface Codec {
  encode: (msg: never, cb: (r: ArrayBuffer | string) => void) => void;
  decode: (raw: ArrayBuffer | string, cb: (m: unknown) => void) => void;
}
const Serializer = SerializerModule as unknown as new () => Codec;
const s = new Serializer();
const encode = (msg: object) => new Promise<ArrayBuffer | string>((r) => s.encode(msg as never, r));
const decode = (raw: ArrayBuffer | string) => new Promise<any>((r) => s.decode(raw, r));

describe('realtime frames', () => {
  it('decodes realtime-js kind-3 pushes (JSON and binary payloads)', async () => {
    const json = await encode({ join_ref: '1', ref: '2', topic: 'realtime:é-room', event: 'broadcast', payload: { type: 'broadcast', event: 'ev', payload: { a: 1 } } });
    const m = decodeBinary(Buffer.from(json as ArrayBuffer));
    assert.ok(m && isBinaryBroadcast(m));
    assert.deepEqual([m.joinRef, m.ref, m.topic, m.userEvent, m.encoding, JSON.parse(m.bytes.toString())], ['1', '2', 'realtime:é-room', 'ev', 1, { a: 1 }]);
    const bin = await encode({ join_ref: '1', ref: null, topic: 'realtime:r', event: 'broadcast', payload: { type: 'broadcast', event: 'b', payload: new Uint8Array([1, 2]).buffer } });
    const b = decodeBinary(Buffer.from(bin as ArrayBuffer));
    assert.ok(b && isBinaryBroadcast(b));
    assert.equal(b.encoding, 0);
    assert.equal(b.ref, null);
    assert.deepEqual([...b.bytes], [1, 2]);
  });

  it('encodes kind-4 broadcasts realtime-js decodes', async () => {
    const f = encodeUserBroadcast('realtime:r', 'ev', 1, Buffer.from('{"x":1}'), '{"id":"m1"}');
    const buf = new Uint8Array(f).buffer as ArrayBuffer;
    assert.deepEqual(await decode(buf), { join_ref: null, ref: null, topic: 'realtime:r', event: 'broadcast', payload: { type: 'broadcast', event: 'ev', payload: { x: 1 }, meta: { id: 'm1' } } });
  });

  it('reads and writes vsn 1.0.0 objects and 2.0.0 arrays; bad frames are null', async () => {
    const m = { joinRef: '1', ref: '2', topic: 't', event: 'e', payload: { a: 1 } };
    assert.deepEqual(decodeText(encodeText(m, '2.0.0'), '2.0.0'), m);
    assert.deepEqual(decodeText(encodeText(m, '1.0.0'), '1.0.0'), m);
    assert.deepEqual(await decode(encodeText(m, '2.0.0')), { join_ref: '1', ref: '2', topic: 't', event: 'e', payload: { a: 1 } });
    for (const bad of ['{', '[1,2]', '{"topic":1}', 'null', '[null,null,"t"]']) assert.equal(decodeText(bad, '2.0.0'), null, bad);
    assert.equal(decodeBinary(Buffer.from([3, 200, 0, 0, 0, 0, 1])), null);
    assert.equal(decodeBinary(Buffer.from([7])), null);
  });
});
