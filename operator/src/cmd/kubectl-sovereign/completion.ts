// Shell completion in cobra's protocol, the one kubectl speaks to plugins (kubectl 1.26+
// runs `kubectl_complete-sovereign ARGS... WORD` and reads its answer): one candidate per
// line, then ":<directive>". The bash and zsh scripts speak the same protocol to
// `kubectl-sovereign __complete`, so every shell completes the same words.
import { COMMAND_NAMES, COMMANDS, type CommandSpec, type FlagSpec, isCommandName } from "./commands.ts";

/** cobra's ShellCompDirective values that this plugin uses. */
export const Directive = {
  /** Let the shell complete file names. */
  Default: 0,
  /** Offer only the candidates given, never file names. */
  NoFileComp: 4,
} as const;
export type Directive = (typeof Directive)[keyof typeof Directive];

export interface Completion {
  candidates: string[];
  directive: Directive;
}

const words = (list: readonly string[], prefix: string): Completion => ({ candidates: list.filter((w) => w.startsWith(prefix)), directive: Directive.NoFileComp });

function flagByName(spec: CommandSpec, word: string): FlagSpec | undefined {
  if (word.startsWith("--")) return spec.flags.find((f) => f.name === word.slice(2));
  if (/^-[A-Za-z]$/.test(word)) return spec.flags.find((f) => f.short === word.slice(1));
  return undefined;
}

function valuesOf(flag: FlagSpec, prefix: string, prepend = ""): Completion {
  if (flag.complete === "file") return { candidates: [], directive: Directive.Default };
  if (Array.isArray(flag.complete)) return { candidates: flag.complete.filter((v) => v.startsWith(prefix)).map((v) => `${prepend}${v}`), directive: Directive.NoFileComp };
  return { candidates: [], directive: Directive.NoFileComp };
}

/**
 * What completes the last of `args` (the words after `sovereign`, the last one being
 * the partial word, "" after a space). Static: commands, flags, flag values, the first
 * positional of `token` and `completion`; workload and cluster names are not looked up.
 */
export function complete(args: readonly string[]): Completion {
  const current = args.at(-1) ?? "";
  const before = args.slice(0, -1);
  if (before.length === 0) return current.startsWith("-") ? words(["--help"], current) : words([...COMMAND_NAMES, "help"], current);
  const command = before[0];
  if (!isCommandName(command)) return { candidates: [], directive: Directive.NoFileComp };
  const spec: CommandSpec = COMMANDS[command];
  const previous = before.length > 1 ? before.at(-1)! : undefined;
  const pending = previous === undefined || previous.includes("=") ? undefined : flagByName(spec, previous);
  if (pending?.value) return valuesOf(pending, current);
  if (current.startsWith("--") && current.includes("=")) {
    const [name] = current.split("=", 1) as [string];
    const flag = flagByName(spec, name);
    return flag?.value ? valuesOf(flag, current.slice(name.length + 1), `${name}=`) : { candidates: [], directive: Directive.NoFileComp };
  }
  if (current.startsWith("-")) {
    const longs = spec.flags.map((f) => `--${f.name}`);
    const shorts = current === "-" ? spec.flags.flatMap((f) => (f.short ? [`-${f.short}`] : [])) : [];
    return words([...shorts, ...longs], current);
  }
  // Positionals so far: words after the command that are neither flags nor their values.
  let positionals = 0;
  for (let i = 1; i < before.length; i++) {
    const w = before[i]!;
    if (w.startsWith("-")) {
      if (!w.includes("=") && flagByName(spec, w)?.value) i++;
    } else positionals++;
  }
  if (positionals === 0 && spec.positionals) return words(spec.positionals, current);
  return { candidates: [], directive: Directive.NoFileComp };
}

/** cobra's wire format. */
export function formatCompletion(c: Completion): string {
  return `${[...c.candidates, `:${c.directive}`].join("\n")}\n`;
}

export const BASH_SCRIPT = `# bash completion for kubectl-sovereign: source <(kubectl sovereign completion bash)
_kubectl_sovereign() {
  local line=\${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<< "$line"
  [[ $line == *[[:space:]] ]] && words+=("")
  local cur=\${words[\${#words[@]}-1]}
  local out
  out=$("\${words[0]}" __complete "\${words[@]:1}" 2>/dev/null) || return 0
  local directive=\${out##*:}
  local -a candidates=()
  local c
  while IFS= read -r c; do
    [[ -z $c || $c == :* ]] && continue
    # bash splits the current word at '=' (COMP_WORDBREAKS): offer only what follows it.
    if [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then c=\${c#"\${cur%=*}="}; fi
    candidates+=("$c")
  done <<< "$out"
  if (( \${#candidates[@]} )); then
    COMPREPLY=("\${candidates[@]}")
  elif [[ $directive == 0 ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "\${cur#*=}"))
  fi
}
complete -F _kubectl_sovereign kubectl-sovereign
`;

export const ZSH_SCRIPT = `#compdef kubectl-sovereign
# zsh completion for kubectl-sovereign: source <(kubectl sovereign completion zsh)
_kubectl_sovereign() {
  local out directive
  local -a lines candidates
  out=$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  candidates=("\${(@)lines[1,-2]}")
  if (( \${#candidates} )); then
    compadd -Q -- "\${candidates[@]}"
  elif [[ $directive == 0 ]]; then
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _kubectl_sovereign "$@"
else
  compdef _kubectl_sovereign kubectl-sovereign
fi
`;

export const SHELLS = { bash: BASH_SCRIPT, zsh: ZSH_SCRIPT } as const;
