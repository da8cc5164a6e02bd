// What a proxy written in Node costs without node:http, measured beside the gateway in bench/gateway/run.ts: the
// same pooled keep-alive forwarding as node-proxy.mjs, but the client's side is a bare net.Server too, read with
// indexOf instead of llhttp, IncomingMessage and ServerResponse. The gap between it and node-proxy.mjs is what
// node:http's server side costs per request, which every Node proxy (the gateway included) pays. It is no HTTP
// server: it understands GET requests without a body and answers with a content-length, all this bench sends.
//   node bench/gateway/raw-proxy.mjs <port> <upstream port>
import net from 'node:net';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const idle = [];
const HEAD_END = '\r\n\r\n';

function connect() {
  const socket = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  socket.on('data', (chunk) => socket.exchange?.(chunk));
  socket.on('close', () => idle.includes(socket) && idle.splice(idle.indexOf(socket), 1));
  socket.on('error', () => socket.destroy());
  return socket;
}

/** forwards one request to a pooled upstream socket, then calls done with the client's response */
function forward(path, done) {
  const socket = idle.pop() ?? connect();
  let buf = null;
  socket.exchange = (chunk) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + length) return;
    socket.exchange = null;
    idle.push(socket);
    const type = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? 'application/octet-stream';
    done(`HTTP/1.1 ${head.slice(9, 12)} OK\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n\r\n${buf.toString('latin1', end + 4, end + 4 + length)}`);
  };
  socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${upstreamPort}\r\nconnection: keep-alive\r\n\r\n`, 'latin1');
}

net.createServer({ noDelay: true }, (client) => {
  let buf = null;
  let busy = false; // one request at a time per connection, as wrk sends them
  const next = () => {
    const end = buf ? buf.indexOf(HEAD_END) : -1;
    if (busy || end < 0) return;
    const line = buf.toString('latin1', 0, buf.indexOf('\r\n'));
    buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
    busy = true;
    forward(line.slice(line.indexOf(' ') + 1, line.lastIndexOf(' ')), (response) => {
      client.write(response, 'latin1');
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
