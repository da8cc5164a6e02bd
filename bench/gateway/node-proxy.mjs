// The floor of a proxy written in Node on this machine, measured beside the gateway in bench/gateway/run.ts: a
// node:http server forwarding each request over a pooled keep-alive socket, the way the gateway's raw forwarder
// does, and nothing else (no project, key, rate limit, CORS, metrics or metering). It understands only answers
// with a content-length, which is all the bench's upstream sends.
//   node bench/gateway/node-proxy.mjs <port> <upstream port>
import http from 'node:http';
import net from 'node:net';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const idle = [];

function connect() {
  const socket = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  socket.on('data', (chunk) => socket.exchange?.(chunk));
  socket.on('close', () => idle.includes(socket) && idle.splice(idle.indexOf(socket), 1));
  socket.on('error', () => socket.destroy());
  return socket;
}

http.createServer((req, res) => {
  const socket = idle.pop() ?? connect();
  let buf = Buffer.alloc(0);
  socket.exchange = (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + length) return;
    socket.exchange = null;
    idle.push(socket);
    const type = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? 'application/octet-stream';
    res.writeHead(Number(head.slice(9, 12)), ['content-type', type, 'content-length', String(length)]);
    res.end(buf.subarray(end + 4, end + 4 + length));
  };
  socket.write(`${req.method} ${req.url} HTTP/1.1\r\nhost: 127.0.0.1:${upstreamPort}\r\nconnection: keep-alive\r\n\r\n`);
  req.resume();
}).listen(port, '127.0.0.1');
