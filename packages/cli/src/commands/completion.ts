// basalt completion bash|zsh|fish: a completion script built from the command list (names, subcommands, flags).
//   bash: source <(basalt completion bash)      zsh: basalt completion zsh > "${fpath[1]}/_basalt"
//   fish: basalt completion fish > ~/.config/fish/completions/basalt.fish
import { usageError, type Command } from '../command.js';

const usage = 'basalt completion bash|zsh|fish';
const GLOBAL_FLAGS = ['json', 'help', 'url', 'token', 'project-ref'];
/** third words: `gen types typescript`, `ai keys list` */
const NESTED: Record<string, Record<string, string[]>> = { gen: { types: ['typescript'] }, ai: { keys: ['list', 'create', 'revoke'] } };

const flagsOf = (c: Command) => [...new Set([...(c.flags ?? []), ...GLOBAL_FLAGS])].map((f) => `--${f}`);
const words = (list: string[]) => list.join(' ');

function bash(commands: Command[]): string {
  const subs = commands.filter((c) => c.subcommands?.length).map((c) => `      ${c.name}) words="${words(c.subcommands!)}" ;;`);
  const flags = commands.map((c) => `      ${c.name}) words="${words(flagsOf(c))}" ;;`);
  const nested = Object.entries(NESTED).flatMap(([c, m]) => Object.entries(m).map(([s, w]) => `      "${c} ${s}") words="${words(w)}" ;;`));
  return `# basalt completion for bash. Load it with: source <(basalt completion bash)
_basalt() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" words=""
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${flags.join('\n')}
      *) words="${words(GLOBAL_FLAGS.map((f) => `--${f}`))}" ;;
    esac
  elif [[ $COMP_CWORD -eq 1 ]]; then
    words="${words(commands.map((c) => c.name))}"
  elif [[ $COMP_CWORD -eq 2 ]]; then
    case "$cmd" in
${subs.join('\n')}
    esac
  elif [[ $COMP_CWORD -eq 3 ]]; then
    case "$cmd \${COMP_WORDS[2]}" in
${nested.join('\n')}
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _basalt basalt
`;
}

function zsh(commands: Command[]): string {
  const esc = (s: string) => s.replace(/[:\\]/g, '\\$&').replace(/'/g, "'\\''");
  const top = commands.map((c) => `    '${c.name}:${esc(c.summary)}'`);
  const subs = commands.filter((c) => c.subcommands?.length).map((c) => `        ${c.name}) compadd -- ${words(c.subcommands!)} ;;`);
  const flags = commands.map((c) => `        ${c.name}) compadd -- ${words(flagsOf(c))} ;;`);
  const nested = Object.entries(NESTED).flatMap(([c, m]) => Object.entries(m).map(([s, w]) => `        "${c} ${s}") compadd -- ${words(w)} ;;`));
  return `#compdef basalt
# basalt completion for zsh. Install: basalt completion zsh > "\${fpath[1]}/_basalt"; or: source <(basalt completion zsh)
_basalt() {
  local -a commands
  commands=(
${top.join('\n')}
  )
  if [[ "\${words[CURRENT]}" == -* ]]; then
    case "\${words[2]}" in
${flags.join('\n')}
        *) compadd -- ${words(GLOBAL_FLAGS.map((f) => `--${f}`))} ;;
    esac
  elif (( CURRENT == 2 )); then
    _describe 'command' commands
  elif (( CURRENT == 3 )); then
    case "\${words[2]}" in
${subs.join('\n')}
        *) _files ;;
    esac
  elif (( CURRENT == 4 )); then
    case "\${words[2]} \${words[3]}" in
${nested.join('\n')}
        *) _files ;;
    esac
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_basalt" ]]; then _basalt "$@"; else compdef _basalt basalt; fi
`;
}

function fish(commands: Command[]): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const names = words(commands.map((c) => c.name));
  const lines = [
    '# basalt completion for fish. Install: basalt completion fish > ~/.config/fish/completions/basalt.fish',
    ...GLOBAL_FLAGS.map((f) => `complete -c basalt -l ${f}`),
    ...commands.map((c) => `complete -c basalt -f -n 'not __fish_seen_subcommand_from ${names}' -a ${c.name} -d ${q(c.summary)}`),
  ];
  for (const c of commands) {
    if (c.subcommands?.length) {
      lines.push(`complete -c basalt -f -n '__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${words(c.subcommands)}' -a ${q(words(c.subcommands))}`);
    }
    for (const f of c.flags ?? []) lines.push(`complete -c basalt -n '__fish_seen_subcommand_from ${c.name}' -l ${f}`);
    for (const [s, w] of Object.entries(NESTED[c.name] ?? {})) {
      lines.push(`complete -c basalt -f -n '__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${s}; and not __fish_seen_subcommand_from ${words(w)}' -a ${q(words(w))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const SHELLS = { bash, zsh, fish } as const;

export const completionCommand = (commands: () => Command[]): Command => ({
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  usage,
  subcommands: Object.keys(SHELLS),
  async run(ctx) {
    const shell = ctx.args[0] as keyof typeof SHELLS | undefined;
    if (!shell || !(shell in SHELLS)) throw usageError(usage, shell ? `no completion for "${shell}"` : 'which shell?');
    process.stdout.write(SHELLS[shell](commands()));
  },
});
