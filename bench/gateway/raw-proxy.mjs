// What a proxy written in Node costs without node:http, measured beside the gateway in bench/gateway/run.ts: the
// same pooled keep-alive forwarding as node-proxy.mjs, but the client's side is a bare net.Server too, read with
// indexOf instead of llhttp, IncomingMessage and ServerResponse. The gap between it and node-proxy.mjs is what
// node:http's server side costs per request, which every Node proxy (the gateway included) pays. It is no HTTP
// server: it understands GET requests without a body and answers with a content-length, all this bench sends.
//   node bench/gateway/raw-proxy.mjs <port> <upstream port>
import net from 'node:net';
import { upstream } from './upstream.mjs';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const forward = upstream(upstreamPort);
const HEAD_END = '\r\n\r\n';

net.createServer({ noDelay: true }, (client) => {
  let buf = null;
  let busy = false; // one request at a time per connection, as wrk sends them
  const next = () => {
    const end = buf ? buf.indexOf(HEAD_END) : -1;
    if (busy || end < 0) return;
    const line = buf.toString('latin1', 0, buf.indexOf('\r\n'));
    buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
    busy = true;
    forward('GET', line.slice(line.indexOf(' ') + 1, line.lastIndexOf(' ')), (status, type, body) => {
      // one write: the head and the body (latin1 carries each byte as it is)
      client.write(`HTTP/1.1 ${status} OK\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\n\r\n${body.toString('latin1')}`, 'latin1');
      busy = false;
      next();
    });
  };
  client.on('data', (chunk) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    next();
  });
  client.on('error', () => client.destroy());
}).listen(port, '127.0.0.1');
