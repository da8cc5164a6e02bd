// S3's XML: answers built from plain objects (arrays repeat their element), the few request bodies S3 clients
// send (CompleteMultipartUpload, Delete, CreateBucketConfiguration) read element by element, and errors.
import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';
import { BasaltError } from '@basalt/errors';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

export type XmlValue = string | number | boolean | Date | null | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [element: string]: XmlValue;
}

function element(name: string, v: XmlValue): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => element(name, x)).join('');
  if (v instanceof Date) return `<${name}>${v.toISOString()}</${name}>`;
  if (typeof v === 'object') return `<${name}>${Object.entries(v).map(([k, x]) => element(k, x)).join('')}</${name}>`;
  return `<${name}>${esc(String(v))}</${name}>`;
}

export function xmlDocument(root: string, body: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${Object.entries(body).map(([k, v]) => element(k, v)).join('')}</${root}>`;
}

export const sendXml = (reply: FastifyReply, root: string, body: XmlNode, status = 200) =>
  reply.code(status).type('application/xml').send(xmlDocument(root, body));

const malformed = () => new BasaltError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', { details: { statusCode: '400', error: 'MalformedXML' } });

const unescape = (s: string) => s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  if (e[0] !== '#') return named[e.toLowerCase()];
  const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
  if (code > 0x10ffff) throw malformed(); // no such character: String.fromCodePoint would throw a RangeError (a 500)
  return String.fromCodePoint(code);
});

/**
 * Every `<name>…</name>` directly inside `xml` (no nesting of the same name). Found by scanning forward only: an
 * element left open ends the search, so a body of unclosed tags costs one pass, not one pass per tag (a lazy
 * regular expression retries from every opening and blocks the event loop for minutes on 2 MB).
 */
export function elements(xml: string, name: string): string[] {
  const out: string[] = [];
  const open = `<${name}`;
  const close = `</${name}>`;
  for (let at = xml.indexOf(open); at >= 0; at = xml.indexOf(open, at)) {
    const next = xml[at + open.length];
    if (next !== '>' && !/\s/.test(next ?? '')) {
      at += open.length; // another element whose name starts the same
      continue;
    }
    const start = xml.indexOf('>', at) + 1;
    const end = start > 0 ? xml.indexOf(close, start) : -1;
    if (end < 0) break;
    out.push(xml.slice(start, end));
    at = end + close.length;
  }
  return out;
}
export const text = (xml: string, name: string): string | undefined => {
  const [v] = elements(xml, name);
  return v === undefined ? undefined : unescape(v);
};

/** A small XML request body (at most 2 MB, S3's own bound for these requests). */
export async function readXml(req: IncomingMessage, max = 2 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) throw malformed();
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function requireXml(xml: string, root: string): string {
  const [inner] = elements(xml, root);
  if (inner === undefined) throw malformed();
  return inner;
}
