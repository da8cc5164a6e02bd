// A tiny authoritative DNS server over UDP for tests: answers A, AAAA and TXT questions from a table the test
// edits while it runs, NXDOMAIN for names it does not know. Enough of RFC 1035 for node's Resolver.
import dgram from 'node:dgram';

export interface DnsRecords {
  A?: string[];
  AAAA?: string[];
  TXT?: string[];
}

export interface TestDns {
  /** `127.0.0.1:<port>`, a BASALT_DNS_SERVERS value */
  server: string;
  records: Map<string, DnsRecords>;
  close: () => Promise<void>;
}

const TYPES = { 1: 'A', 28: 'AAAA', 16: 'TXT' } as const;

function readQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let at = 12;
  while (msg[at] !== 0) {
    labels.push(msg.subarray(at + 1, at + 1 + msg[at]).toString('latin1'));
    at += 1 + msg[at];
  }
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

function rdata(type: number, value: string): Buffer {
  if (type === 1) return Buffer.from(value.split('.').map(Number));
  if (type === 28) {
    const [head, tail = ''] = value.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = value.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  const text = Buffer.from(value);
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length || i === 0; i += 255) {
    const part = text.subarray(i, i + 255);
    chunks.push(Buffer.from([part.length]), part);
  }
  return Buffer.concat(chunks);
}

function answer(query: Buffer, records: Map<string, DnsRecords>): Buffer {
  const q = readQuestion(query);
  const known = records.get(q.name);
  const kind = TYPES[q.type as keyof typeof TYPES];
  const values = (kind && known?.[kind]) || [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // response, authoritative, recursion desired copied; rcode 3 (NXDOMAIN) when the name is unknown
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const answers = values.map((v) => {
    const data = rdata(q.type, v);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(1, 4); // class IN
    rr.writeUInt32BE(0, 6); // TTL 0: tests change records between questions
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...answers]);
}

export async function startTestDns(): Promise<TestDns> {
  const records = new Map<string, DnsRecords>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, peer) => {
    try {
      socket.send(answer(msg, records), peer.port, peer.address);
    } catch {
      // a malformed question gets no answer, as from a real server that drops it
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    records,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
