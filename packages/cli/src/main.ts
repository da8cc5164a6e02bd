// The `basalt` command line: parse argv, dispatch to a command module, print errors with an exit code.
import { CliError, type Command, type Flags } from './command.js';
import { apiFrom } from './api.js';
import { Output } from './output.js';
import { assetsCommand } from './commands/assets.js';
import { devCommand } from './commands/dev.js';
import { functionsCommand } from './commands/functions.js';
import { secretsCommand } from './commands/secrets.js';
import { keysCommand } from './commands/keys.js';
import { projectsCommand } from './commands/projects.js';
import { sqlCommand } from './commands/sql.js';
import { statusCommand } from './commands/status.js';
import { tokensCommand } from './commands/tokens.js';

const COMMANDS: Command[] = [devCommand, projectsCommand, keysCommand, sqlCommand, tokensCommand, functionsCommand, secretsCommand, assetsCommand, statusCommand];

/** --flag, --flag=value, --flag value, -f value; everything else is positional. */
export function parseArgv(argv: string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = {};
  const BOOLEAN = new Set(['json', 'yes', 'rotate', 'logs', 'help', 'no-verify-jwt', 'spa', 'prune']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const [, name, inline] = m;
    if (inline !== undefined) flags[name] = inline;
    else if (BOOLEAN.has(name) || i + 1 >= argv.length || argv[i + 1].startsWith('-')) flags[name] = true;
    else flags[name] = argv[++i];
  }
  return { positional, flags };
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return ['usage: basalt <command> [args] [--json]', '', ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', 'basalt <command> --help shows its usage.'].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgv(argv);
  const out = new Output(flags.json === true);
  const [name, ...args] = positional;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`${name ? `unknown command "${name}"\n\n` : ''}${help()}\n`);
    return name ? 2 : flags.help ? 0 : 2;
  }
  if (flags.help) {
    process.stdout.write(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    await command.run({ args, flags, out, api: () => apiFrom(flags) });
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      if (out.json) process.stdout.write(`${JSON.stringify({ error: e.message })}\n`);
      else process.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = await run(process.argv.slice(2));
}
