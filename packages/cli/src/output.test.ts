import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Output, renderBar } from './output.js';

const capture = (isTTY: boolean) => {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = '';
  s.on('data', (c) => (text += c));
  return { stream: s, text: () => text };
};

test('renderBar fills in proportion and says how far it is', () => {
  assert.equal(renderBar('up', 0, 4), `up [${'░'.repeat(24)}] 0/4`);
  assert.equal(renderBar('up', 2, 4, 'b.js'), `up [${'█'.repeat(12)}${'░'.repeat(12)}] 2/4 b.js`);
  assert.equal(renderBar('up', 0, 0), `up [${'█'.repeat(24)}] 0/0`);
});

test('progress is drawn on a terminal stderr and never elsewhere; results go to stdout', async () => {
  const out = capture(false);
  const tty = capture(true);
  const o = new Output(false, out.stream, tty.stream);
  const bar = o.progress('uploading', 3);
  bar.tick(2, 'a.html');
  bar.done('3 files');
  o.result({ n: 1 }, (x) => `n=${x.n}`);
  assert.match(tty.text(), /\ruploading \[█{16}░{8}\] 2\/3 a\.html/);
  assert.ok(tty.text().endsWith('3/3 3 files\x1b[K\n'));
  assert.equal(out.text(), 'n=1\n');

  const piped = capture(false);
  const quiet = new Output(true, out.stream, piped.stream);
  const b = quiet.progress('uploading', 3);
  b.tick(3);
  b.done();
  assert.equal(await quiet.step('working', async () => 7), 7);
  assert.equal(piped.text(), '', 'nothing on a stderr that is not a terminal');
});
