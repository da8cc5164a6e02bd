import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { lingerOnClose } from './lingering-close.js';

/**
 * A server that refuses an upload from its head and closes; a client that sends the rest of the body after the
 * answer came, and reads only then (as a busy gateway does). Gives what the client read.
 */
async function refusedUpload(linger: boolean): Promise<string> {
  const server = http.createServer((req, res) => {
    if (linger) lingerOnClose(req.socket, 2_000);
    res.writeHead(400, { connection: 'close', 'content-type': 'text/plain', 'content-length': '7' }).end('refused');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined); // a reset: what was read before it is the result
    const closed = new Promise((r) => socket.once('close', r));
    socket.pause(); // read nothing until the body is all sent
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 200000\r\n\r\n' + 'a'.repeat(1000));
    await new Promise((r) => setTimeout(r, 150)); // the answer arrives, unread
    for (let i = 0; i < 20; i++) socket.write(Buffer.alloc(9950, 'b'));
    await new Promise((r) => setTimeout(r, 150)); // and whatever the server does with the late bytes
    let got = '';
    socket.on('data', (c) => (got += c));
    socket.resume();
    await closed;
    return got;
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('an answer sent before the body arrived, with connection: close, reaches a client still sending', async () => {
  const got = await refusedUpload(true);
  assert.match(got, /^HTTP\/1\.1 400 /);
  assert.match(got, /refused$/);
});

test('without the lingering close, the late body bytes reset the connection and the answer is lost', async () => {
  assert.equal(await refusedUpload(false), '');
});
