// CSV request bodies (Content-Type: text/csv): a header row naming the columns, then one row per record.
// Quoted fields may hold commas, quotes ("") and newlines; an empty unquoted field is NULL, as PostgREST reads it.
//
// One forward pass over the body (10 MB at most): runs between separators are sliced, not grown a character at a
// time, and each line becomes its record as it ends. Building every field by `+=` and every line as an array first
// held an 8 MB body of short lines for 5-15 s of blocked event loop and over a gigabyte of heap.
import { restErrors } from '../errors.js';

type Row = Record<string, string | null>;

const QUOTE = 0x22, COMMA = 0x2c, LF = 0x0a, CR = 0x0d;

class Reader {
  /** where the last field stopped: a comma, a line end or the end of the text */
  at = 0;
  constructor(readonly text: string) {}

  /** The field from `at`: null when empty and never quoted. */
  field(): string | null {
    const { text } = this;
    let value = '', quoted = false, i = this.at;
    for (;;) {
      let c = text.charCodeAt(i);
      if (c === QUOTE) {
        quoted = true;
        i++;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) throw restErrors.badBody('Unterminated quoted field in CSV body');
          value += text.slice(i, close);
          i = close + 1;
          if (text.charCodeAt(i) !== QUOTE) break;
          value += '"'; // "" inside quotes
          i++;
        }
      }
      const from = i;
      while (i < text.length && (c = text.charCodeAt(i)) !== COMMA && c !== LF && c !== CR && c !== QUOTE) i++;
      value += text.slice(from, i);
      if (text.charCodeAt(i) !== QUOTE) {
        this.at = i;
        return value === '' && !quoted ? null : value;
      }
    }
  }
}

/** The record of a data line; a column named `__proto__` stays a key (an assignment would set the prototype). */
function record(header: string[], values: (string | null)[]): Row {
  if (values.length !== header.length) throw restErrors.badBody('All lines must have same number of fields');
  const r: Row = {};
  for (let k = 0; k < header.length; k++) {
    if (header[k] === '__proto__') Object.defineProperty(r, '__proto__', { value: values[k], enumerable: true, writable: true, configurable: true });
    else r[header[k]] = values[k];
  }
  return r;
}

export function parseCsv(text: string): Row[] {
  const rows: Row[] = [];
  const reader = new Reader(text);
  let header: string[] | null = null;
  let line: (string | null)[] = [];
  for (;;) {
    line.push(reader.field());
    const stop = reader.at;
    const end = stop >= text.length;
    if (!end && text.charCodeAt(stop) === COMMA) {
      reader.at = stop + 1;
      continue;
    }
    if (!header) {
      if (line.some((h) => !h)) throw restErrors.badBody('A CSV body needs a header row of column names');
      header = line as string[];
    } else if (!(line.length === 1 && line[0] === null)) rows.push(record(header, line)); // a blank line is no record
    line = [];
    if (end) return rows;
    reader.at = stop + (text.charCodeAt(stop) === CR && text.charCodeAt(stop + 1) === LF ? 2 : 1);
    if (reader.at >= text.length) return rows; // the body ends with its last line's newline
  }
}
