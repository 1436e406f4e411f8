/**
 * The one command-line parser of every tool. The reference's tools are python argparse programs, and ours are
 * drop-ins for them, so this parser accepts and refuses what argparse (python 3.11) does:
 * - short and long names, `--name=value`, `-nVALUE` and `-n=VALUE`;
 * - a unique prefix of a long name (`--layout-k` is `--layout-keys`); an exact name wins over longer names it
 *   begins (`--key` beside `--key-type`), and an ambiguous prefix is refused naming every option it could be;
 * - bundled short flags (`-vq` is `-v -q`), the last letter may take a value (`-vkfoo` is `-v -k foo`);
 * - options with one or more values (`nargs='+'`) take the values up to the next option; `--` ends options;
 * - `-h/--help` and `--version` answered before anything is required;
 * - mutually exclusive options (`-v` with `-q`) and required options refused as argparse words it;
 * - a repeated option replaces its earlier value (argparse's `store`) unless it extends (`action='extend'`).
 * Usage errors throw {@link UsageError}; the tools print them as argparse does and exit 2. No I/O here: the
 * caller prints the help or version text it is handed.
 */

/** The version every tool reports with `--version`. */
export const VERSION = '0.1.0';

export interface OptionSpec {
  /** Long name without dashes, e.g. `layout-keys`. */
  readonly name: string;
  /** One-letter alias, e.g. `k`. */
  readonly short?: string;
  /** `flag`: no value; `one`: exactly one value; `many`: one or more values; `optional`: zero or one value; `any`: zero or more. */
  readonly kind: 'flag' | 'one' | 'many' | 'optional' | 'any';
  /** Allowed values, when the option has a fixed set. */
  readonly choices?: readonly string[];
  /** Each occurrence adds its values to the earlier ones (argparse's `action='extend'`) instead of replacing them. */
  readonly extend?: boolean;
  /**
   * Given at most once: a repeat is a usage error instead of silently replacing the earlier values (for keys a
   * signature must come from: `-k a.pub -k b.pub` would otherwise require only b.pub).
   */
  readonly once?: boolean;
  readonly help: string;
  readonly metavar?: string;
}

/** One tool's command line: its name, argparse's usage line, the text `-h` shows and its options. */
export interface CommandLine {
  readonly tool: string;
  readonly usage: string;
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** Names of the options argparse requires. */
  readonly required?: readonly string[];
  /**
   * Groups of option names of which at most one may be given (argparse's mutually exclusive groups). Default:
   * `verbose` with `quiet`, the group every reference tool has; groups naming options a tool lacks are ignored.
   */
  readonly exclusive?: readonly (readonly string[])[];
  /** Example command lines shown at the end of `--help` (the reference's tools show theirs), each with a line saying what it does. */
  readonly examples?: readonly { readonly command: string; readonly does: string }[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Parsed {
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Arguments after `--` (or positional arguments, when the tool takes them). */
  readonly rest: readonly string[];
}

/** What a command line asks for: a text to print and exit 0 with (`-h`, `--version`), or a run. */
export type Invocation =
  | { readonly kind: 'help' | 'version'; readonly text: string }
  | { readonly kind: 'run'; readonly parsed: Parsed };

const DEFAULT_EXCLUSIVE: readonly (readonly string[])[] = [['verbose', 'quiet']];

/**
 * Parses `argv` as argparse would for `cli`. Throws {@link UsageError} for anything argparse refuses, in
 * argparse's words; the checks come in argparse's order (options as read, then mutual exclusion, then
 * required options), so the first error reported is the one the reference reports.
 */
export function readCommandLine(cli: CommandLine, argv: readonly string[]): Invocation {
  const args = spellOut(argv, cli.options);
  const end = args.indexOf('--');
  const options = end < 0 ? args : args.slice(0, end);
  if (options.includes('-h') || options.includes('--help')) return { kind: 'help', text: helpText(cli.usage, cli.description, cli.options, cli.examples) };
  if (options.includes('--version')) return { kind: 'version', text: `${cli.tool} (in-toto-wasm) ${VERSION}\n` };
  const { values, rest, order } = parseOptions(args, cli.options);
  const label = (name: string) => optionLabel(cli.options.find((s) => s.name === name) ?? { name });
  for (const group of cli.exclusive ?? DEFAULT_EXCLUSIVE) {
    // argparse names the later option as the one not allowed, beside the one given first.
    const given = order.filter((name) => group.includes(name));
    if (given.length > 1) throw new UsageError(`argument ${label(given[1]!)}: not allowed with argument ${label(given[0]!)}`);
  }
  const missing = (cli.required ?? []).filter((name) => !values.has(name));
  if (missing.length > 0) throw new UsageError(`the following arguments are required: ${missing.map(label).join(', ')}`);
  return { kind: 'run', parsed: { values, rest } };
}

/** An option as argparse names it in errors: `-l/--layout`, or `--link-dir` when it has no short name. */
function optionLabel(spec: Pick<OptionSpec, 'name' | 'short'>): string {
  return spec.short ? `-${spec.short}/--${spec.name}` : `--${spec.name}`;
}

/**
 * Spells out what argparse accepts in short: a unique prefix of a long option and bundled short flags, so that
 * {@link parseOptions} sees only full names. Nothing after `--` is touched: it belongs to a command.
 */
function spellOut(argv: readonly string[], specs: readonly OptionSpec[]): string[] {
  const longNames = [...new Set([...specs.map((s) => s.name), 'help', 'version'])];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const candidates = name === '' ? [] : longNames.includes(name) ? [name] : longNames.filter((n) => n.startsWith(name));
      if (candidates.length > 1) {
        throw new UsageError(`ambiguous option: --${name} could match ${candidates.map((n) => `--${n}`).join(', ')} (write more of the name)`);
      }
      // No candidate: left as written, for parseOptions to call it unrecognized.
      out.push(candidates.length === 1 ? `--${candidates[0]}${eq < 0 ? '' : arg.slice(eq)}` : arg);
    } else if (/^-[^-\d]./.test(arg)) {
      let bundle = arg.slice(1);
      while (bundle.length > 0 && specs.find((s) => s.short === bundle[0])?.kind === 'flag') {
        out.push(`-${bundle[0]}`);
        bundle = bundle.slice(1);
      }
      if (bundle.length > 0) out.push(`-${bundle}`);
    } else out.push(arg);
  }
  return out;
}

/** Reads spelled-out options into their values; `order` lists option names as first given. */
function parseOptions(argv: readonly string[], specs: readonly OptionSpec[]): Parsed & { order: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values = new Map<string, string[]>();
  const order: string[] = [];
  const rest: string[] = [];
  const isOption = (arg: string) => arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!isOption(arg)) {
      rest.push(arg);
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      spec = byName.get(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      spec = byShort.get(arg.slice(1, 2));
      // `-kVALUE`, and `-k=VALUE` as argparse reads it (the `=` is not part of the value).
      inline = arg.length > 2 ? arg.slice(arg[2] === '=' ? 3 : 2) : undefined;
    }
    if (!spec) throw new UsageError(`unrecognized argument: ${arg}`);
    const got: string[] = [];
    if (inline !== undefined) {
      if (spec.kind === 'flag') throw new UsageError(`argument ${optionLabel(spec)}: ignored explicit argument '${inline}'`);
      got.push(inline);
    }
    if (spec.kind === 'one' && inline === undefined) {
      if (i + 1 >= argv.length || isOption(argv[i + 1]!)) throw new UsageError(`argument ${optionLabel(spec)}: expected one argument`);
      got.push(argv[++i]!);
    } else if (spec.kind === 'optional' && inline === undefined) {
      if (i + 1 < argv.length && !isOption(argv[i + 1]!) && argv[i + 1] !== '--') got.push(argv[++i]!);
    } else if (spec.kind === 'many' || spec.kind === 'any') {
      while (i + 1 < argv.length && !isOption(argv[i + 1]!) && argv[i + 1] !== '--') got.push(argv[++i]!);
      if (got.length === 0 && spec.kind === 'many') throw new UsageError(`argument ${optionLabel(spec)}: expected at least one argument`);
    }
    if (spec.choices) {
      for (const v of got) {
        if (!spec.choices.includes(v)) throw new UsageError(`argument ${optionLabel(spec)}: invalid choice: '${v}' (choose from ${spec.choices.map((c) => `'${c}'`).join(', ')})`);
      }
    }
    if (spec.once && values.has(spec.name)) throw new UsageError(`argument ${optionLabel(spec)}: given twice; give all its values after one ${optionLabel(spec)} (a repeat would replace the earlier values)`);
    if (!values.has(spec.name)) order.push(spec.name);
    values.set(spec.name, spec.extend ? [...(values.get(spec.name) ?? []), ...got] : got);
  }
  return { values, rest, order };
}

/** A help text in argparse's spirit: usage line, description, one line per option. */
export function helpText(usage: string, description: string, specs: readonly OptionSpec[], examples: CommandLine['examples'] = []): string {
  const lines = specs.map((s) => {
    const meta = s.metavar ?? `<${s.name}>`;
    const arg = s.kind === 'flag' ? '' : s.kind === 'many' ? ` ${meta} [${meta} ...]` : s.kind === 'any' ? ` [${meta} ...]` : s.kind === 'optional' ? ` [${meta}]` : ` ${meta}`;
    const names = [s.short ? `-${s.short}${arg}` : '', `--${s.name}${arg}`].filter(Boolean).join(', ');
    return `  ${names}\n      ${s.help}`;
  });
  const shown = examples.length === 0 ? '' : `\nexamples:\n${examples.map((e) => `  ${e.does}:\n    ${e.command}\n`).join('\n')}`;
  return `usage: ${usage}\n\n${description}\n\noptions:\n  -h, --help\n      show this help message and exit\n  --version\n      show program's version number and exit\n${lines.join('\n')}\n${shown}`;
}
