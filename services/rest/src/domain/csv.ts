// CSV request bodies (Content-Type: text/csv): a header row naming the columns, then one row per record.
// Quoted fields may hold commas, quotes ("") and newlines; an empty unquoted field is NULL, as PostgREST reads it.
import { restErrors } from '../errors.js';

export function parseCsv(text: string): Record<string, string | null>[] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [], cur = '', quoted = false, wasQuoted = false;
  const endField = () => { row.push(cur === '' && !wasQuoted ? null : cur); cur = ''; wasQuoted = false; };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') { quoted = true; wasQuoted = true; }
    else if (ch === ',') endField();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endField(); rows.push(row); row = [];
    } else cur += ch;
  }
  if (quoted) throw restErrors.badBody('Unterminated quoted field in CSV body');
  if (cur !== '' || wasQuoted || row.length) { endField(); rows.push(row); }
  const [header, ...data] = rows;
  if (!header || header.some((h) => !h)) throw restErrors.badBody('A CSV body needs a header row of column names');
  return data.filter((r) => !(r.length === 1 && r[0] === null)).map((r) => {
    if (r.length !== header.length) throw restErrors.badBody('All lines must have same number of fields');
    return Object.fromEntries(header.map((h, i) => [h as string, r[i]]));
  });
}
