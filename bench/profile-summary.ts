// Reads V8 CPU profiles (what BASALT_CPU_PROF=<service> makes the fleet write, see packages/fleet) and prints where
// the time went: the heaviest functions by self time, and self time summed by file (node_modules by package).
//   node --import tsx bench/profile-summary.ts .basalt/profiles/<file>.cpuprofile [more files] [--top 25]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;

for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const n = nodes.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, 'pkg:').replace(/.*\/work\/[^/]+\//, '');
    const owner = where.startsWith('pkg:') ? where.split('/').slice(0, where.startsWith('pkg:@') ? 2 : 1).join('/') : where || `(${functionName})`;
    byFunction.set(`${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`, (byFunction.get(`${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`) ?? 0) + dt);
    byFile.set(owner, (byFile.get(owner) ?? 0) + dt);
    total += dt;
  });
}

const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${args.length} profile(s), ${(total / 1e6).toFixed(2)} s sampled`);
show('by function (self time)', byFunction);
show('by file or package (self time)', byFile);
