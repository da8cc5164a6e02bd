// The `basalt` command line: parse argv, dispatch to a command module, print errors with an exit code.
import { CliError, EXIT, type Command, type Flags } from './command.js';
import { apiFrom } from './api.js';
import { Output } from './output.js';
import { aiCommand } from './commands/ai.js';
import { assetsCommand } from './commands/assets.js';
import { completionCommand } from './commands/completion.js';
import { cronCommand } from './commands/cron.js';
import { dbCommand } from './commands/db.js';
import { devCommand } from './commands/dev.js';
import { functionsCommand } from './commands/functions.js';
import { genCommand } from './commands/gen.js';
import { keysCommand } from './commands/keys.js';
import { linkCommand, unlinkCommand } from './commands/link.js';
import { loginCommand, logoutCommand } from './commands/login.js';
import { logsCommand } from './commands/logs.js';
import { memoryCommand } from './commands/memory.js';
import { projectsCommand } from './commands/projects.js';
import { secretsCommand } from './commands/secrets.js';
import { sqlCommand } from './commands/sql.js';
import { statusCommand } from './commands/status.js';
import { tokensCommand } from './commands/tokens.js';

const COMMANDS: Command[] = [
  devCommand, loginCommand, logoutCommand, linkCommand, unlinkCommand, projectsCommand, keysCommand, sqlCommand, dbCommand, genCommand,
  tokensCommand, functionsCommand, secretsCommand, cronCommand, assetsCommand, aiCommand, memoryCommand, logsCommand, statusCommand,
];
COMMANDS.push(completionCommand(() => COMMANDS));

/** --flag, --flag=value, --flag value, -f value; everything else is positional. */
export function parseArgv(argv: string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = {};
  const BOOLEAN = new Set(['json', 'yes', 'rotate', 'logs', 'help', 'no-verify-jwt', 'spa', 'prune', 'infer', 'no-watch', 'service-role', 'show']);
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
  return [
    'usage: basalt <command> [args] [--json]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json (machine-readable output on stdout; errors as {"error": …}). [ref] may be left out',
    'in a folder linked with `basalt link <ref>`, or given as --project-ref. The platform URL and token come from',
    '--url/--token, BASALT_URL/BASALT_TOKEN, `basalt login`, then .basalt/credentials.json of a local fleet.',
    'Progress bars and spinners are drawn on stderr only when it is a terminal.',
    '',
    'exit codes:',
    `  ${EXIT.ok}   success`,
    `  ${EXIT.api}   the API refused or failed (bad token, missing project, SQL error, unreachable server)`,
    `  ${EXIT.usage}   bad usage (unknown command or flag value, missing argument); nothing was sent`,
    `  ${EXIT.config}  (dev) the local set-up cannot work, e.g. another master key`,
    '',
    'basalt <command> --help shows its usage.',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgv(argv);
  const out = new Output(flags.json === true);
  const [name, ...args] = positional;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    if (!name && flags.help) {
      process.stdout.write(`${help()}\n`);
      return EXIT.ok;
    }
    process.stderr.write(`${name ? `unknown command "${name}"\n\n` : ''}${help()}\n`);
    return EXIT.usage;
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
