// The floor of a proxy written in Node on this machine, measured beside the gateway in bench/gateway/run.ts: a
// node:http server forwarding each request over a pooled keep-alive socket (upstream.mjs), the way the gateway's raw
// forwarder does, and nothing else (no project, key, rate limit, CORS, metrics or metering).
//   node bench/gateway/node-proxy.mjs <port> <upstream port>
import http from 'node:http';
import { upstream } from './upstream.mjs';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const forward = upstream(upstreamPort);

http.createServer((req, res) => {
  forward(req.method, req.url, (status, type, body) => {
    res.writeHead(status, ['content-type', type, 'content-length', String(body.length)]);
    res.end(body);
  });
  req.resume();
}).listen(port, '127.0.0.1');
