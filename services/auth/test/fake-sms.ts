// A small local HTTP server that plays the SMS providers GoTrue supports, each on its own wire: Twilio
// (POST /2010-04-01/Accounts/<sid>/Messages.json, basic auth), MessageBird (POST /messages, AccessKey),
// Vonage (POST /sms/json, keys in the form) and Textlocal (POST /send, apikey in the form). It records every
// text and can be told to refuse the next one. It listens on 127.0.0.77 (the test fleet's egress allow-list).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Text {
  provider: 'twilio' | 'messagebird' | 'vonage' | 'textlocal';
  path: string;
  authorization: string | null;
  form: Record<string, string>;
  /** the number and the message, whatever each provider calls them */
  to: string;
  message: string;
}

export interface FakeSms {
  url: string;
  texts: Text[];
  /** the code in the last text sent to `to` (digits, with or without +) */
  codeFor: (to: string) => string;
  failNext: boolean;
  close: () => Promise<void>;
}

const read = (req: IncomingMessage) =>
  new Promise<Record<string, string>>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(s))));
  });

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export async function startFakeSms(host = '127.0.0.77'): Promise<FakeSms> {
  const fake = { texts: [] as Text[], failNext: false } as FakeSms;
  let n = 0;
  const server = createServer(async (req, res) => {
    const form = await read(req);
    const path = (req.url ?? '').split('?')[0];
    const authorization = req.headers.authorization ?? null;
    const fail = fake.failNext;
    fake.failNext = false;
    const id = `msg-${++n}`;
    const twilio = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (req.method === 'POST' && twilio) {
      fake.texts.push({ provider: 'twilio', path, authorization, form, to: form.To, message: form.Body });
      if (fail) return json(res, 400, { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 });
      return json(res, 201, { sid: `SM${id}`, status: 'queued', to: form.To, from: form.From, body: form.Body, error_code: null, error_message: null });
    }
    if (req.method === 'POST' && path === '/messages') {
      fake.texts.push({ provider: 'messagebird', path, authorization, form, to: form.recipients, message: form.body });
      if (fail) return json(res, 422, { errors: [{ code: 9, description: 'no (correct) recipients found', parameter: 'recipients' }] });
      return json(res, 201, { id, recipients: { totalCount: 1, totalSentCount: 1, items: [{ recipient: Number(form.recipients), status: 'sent' }] } });
    }
    if (req.method === 'POST' && path === '/sms/json') {
      fake.texts.push({ provider: 'vonage', path, authorization, form, to: form.to, message: form.text });
      if (fail) return json(res, 200, { 'message-count': '1', messages: [{ status: '3', 'error-text': 'Invalid to number' }] });
      return json(res, 200, { 'message-count': '1', messages: [{ to: form.to, 'message-id': id, status: '0' }] });
    }
    if (req.method === 'POST' && path === '/send') {
      fake.texts.push({ provider: 'textlocal', path, authorization, form, to: form.numbers, message: form.message });
      if (fail) return json(res, 200, { status: 'failure', errors: [{ code: 4, message: 'No recipients specified' }] });
      return json(res, 200, { status: 'success', batch_id: 1, messages: [{ id, recipient: Number(form.numbers) }] });
    }
    json(res, 404, { error: 'unknown path' });
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  fake.url = `http://${host}:${(server.address() as AddressInfo).port}`;
  fake.codeFor = (to) => {
    const digits = to.replace(/^\+/, '');
    const text = [...fake.texts].reverse().find((t) => t.to.replace(/^\+/, '') === digits);
    const code = text && /(\d{6,10})/.exec(text.message)?.[1];
    if (!code) throw new Error(`no text with a code was sent to ${to}`);
    return code;
  };
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
