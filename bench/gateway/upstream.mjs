// The upstream half of the bench's two reference proxies (node-proxy.mjs, raw-proxy.mjs): each request forwarded over
// a pooled keep-alive socket, the way the gateway's raw forwarder does, and its answer read whole. It understands only
// answers with a content-length, which is all the bench's upstream sends.
import net from 'node:net';

/** forward(method, path, done): sends one request upstream, then done(status, contentType, body) */
export function upstream(port) {
  const idle = [];
  const connect = () => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    socket.on('data', (chunk) => socket.exchange?.(chunk));
    socket.on('close', () => idle.includes(socket) && idle.splice(idle.indexOf(socket), 1));
    socket.on('error', () => socket.destroy());
    return socket;
  };
  return (method, path, done) => {
    const socket = idle.pop() ?? connect();
    let buf = null;
    socket.exchange = (chunk) => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      socket.exchange = null;
      idle.push(socket);
      const type = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? 'application/octet-stream';
      done(Number(head.slice(9, 12)), type, buf.subarray(end + 4, end + 4 + length));
    };
    socket.write(`${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\n\r\n`, 'latin1');
  };
}
