// basalt --help (the commands and the exit codes) and shell completion that really completes in bash. No fleet needed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basaltIn } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'basalt-cli-completion-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('--help prints the commands and the exit codes on stdout; no command is a usage error', () => {
  const help = basaltIn(work, '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /exit codes:\n\s+0\s+success\n\s+1\s+the API refused[^\n]*\n\s+2\s+bad usage/);
  for (const c of ['login', 'link', 'functions', 'cron', 'ai', 'memory', 'logs', 'completion']) assert.match(help.out, new RegExp(`^  ${c}\\s`, 'm'));
  assert.equal(basaltIn(work).code, 2);
  assert.match(basaltIn(work, 'cron', '--help').out, /^usage: basalt cron list/);
});

test('completion: a bash script that completes commands, subcommands and flags; zsh and fish scripts', () => {
  const bash = basaltIn(work, 'completion', 'bash');
  assert.equal(bash.code, 0, bash.err);
  const file = join(work, 'basalt.bash');
  writeFileSync(file, bash.out);
  const complete = (...words: string[]) => {
    const script = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _basalt; echo "\${COMPREPLY[*]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(complete('basalt', 'fun'), 'functions');
  assert.equal(complete('basalt', 'functions', ''), 'new serve deploy list invoke logs delete');
  assert.equal(complete('basalt', 'ai', 'keys', ''), 'list create revoke');
  assert.equal(complete('basalt', 'gen', 'types', ''), 'typescript');
  assert.equal(complete('basalt', 'cron', 'create', '--db'), '--db-function');

  const zsh = basaltIn(work, 'completion', 'zsh');
  assert.match(zsh.out, /^#compdef basalt\n/);
  assert.match(zsh.out, /'memory:add, search, list and delete/);
  const fish = basaltIn(work, 'completion', 'fish');
  assert.match(fish.out, /complete -c basalt -f -n '__fish_seen_subcommand_from cron; and not __fish_seen_subcommand_from list create runs pause resume delete' -a 'list create runs pause resume delete'/);
  assert.equal(basaltIn(work, 'completion', 'tcsh').code, 2);
});
