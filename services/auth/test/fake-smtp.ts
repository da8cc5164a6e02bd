// A local SMTP server standing in for a project's mail provider, on 127.0.0.77 (operator-allowed in tests)
// unless told otherwise.
import { createServer, type AddressInfo, type Socket } from 'node:net';

/** Just enough SMTP to accept a message from nodemailer and keep it; `connections` counts every client. */
export async function startFakeSmtp(host = '127.0.0.77') {
  const received: { to: string; data: string }[] = [];
  const logins: string[] = [];
  let connections = 0;
  const server = createServer((s: Socket) => {
    connections++;
    let to = '';
    let data: string | null = null;
    let buf = '';
    s.write('220 fake ESMTP\r\n');
    s.on('data', (chunk) => {
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data !== null) {
          if (line === '.') {
            received.push({ to, data });
            data = null;
            s.write('250 queued\r\n');
          } else data += `${line}\n`;
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') s.write('250-fake\r\n250 AUTH PLAIN\r\n');
        else if (cmd === 'AUTH') {
          logins.push(Buffer.from(line.split(' ')[2] ?? '', 'base64').toString().split('\u0000').slice(1).join(':'));
          s.write('235 ok\r\n');
        }
        else if (cmd === 'RCPT') {
          to = line.slice(8).replace(/[<>]/g, '');
          s.write('250 ok\r\n');
        } else if (cmd === 'DATA') {
          data = '';
          s.write('354 go\r\n');
        }
        else if (cmd === 'QUIT') s.end('221 bye\r\n');
        else s.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    host, port: (server.address() as AddressInfo).port, received, logins, connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
