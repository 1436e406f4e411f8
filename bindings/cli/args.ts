/**
 * Command-line parsing with the reference's (python argparse) conventions: short and long names,
 * `--name=value`, options that take one or more values (`nargs='+'`: values run until the next option),
 * `--` ending options. Usage errors exit with code 2, as argparse does.
 */

export interface OptionSpec {
  /** Long name without dashes, e.g. `layout-keys`. */
  readonly name: string;
  /** One-letter alias, e.g. `k`. */
  readonly short?: string;
  /** `flag`: no value; `one`: exactly one value; `many`: one or more values; `optional`: zero or one value; `any`: zero or more. */
  readonly kind: 'flag' | 'one' | 'many' | 'optional' | 'any';
  /** Allowed values, when the option has a fixed set. */
  readonly choices?: readonly string[];
  readonly help: string;
  readonly metavar?: string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Parsed {
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Arguments after `--` (or positional arguments, when the tool takes them). */
  readonly rest: readonly string[];
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values = new Map<string, string[]>();
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
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      name = arg.slice(1, 2);
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    }
    const spec = arg.startsWith('--') ? byName.get(name) : byShort.get(name);
    if (!spec) throw new UsageError(`unrecognized argument: ${arg}`);
    const got: string[] = [];
    if (inline !== undefined) {
      if (spec.kind === 'flag') throw new UsageError(`argument --${spec.name}: ignored explicit argument '${inline}'`);
      got.push(inline);
    }
    if (spec.kind === 'one' && inline === undefined) {
      if (i + 1 >= argv.length || isOption(argv[i + 1]!)) throw new UsageError(`argument --${spec.name}: expected one argument`);
      got.push(argv[++i]!);
    } else if (spec.kind === 'optional' && inline === undefined) {
      if (i + 1 < argv.length && !isOption(argv[i + 1]!) && argv[i + 1] !== '--') got.push(argv[++i]!);
    } else if (spec.kind === 'many' || spec.kind === 'any') {
      while (i + 1 < argv.length && !isOption(argv[i + 1]!) && argv[i + 1] !== '--') got.push(argv[++i]!);
      if (got.length === 0 && spec.kind === 'many') throw new UsageError(`argument --${spec.name}: expected at least one argument`);
    }
    if (spec.choices) {
      for (const v of got) {
        if (!spec.choices.includes(v)) throw new UsageError(`argument --${spec.name}: invalid choice: '${v}' (choose from ${spec.choices.map((c) => `'${c}'`).join(', ')})`);
      }
    }
    // argparse: a repeated option replaces the earlier value.
    values.set(spec.name, got);
  }
  return { values, rest };
}

/** A help text in argparse's spirit: usage line, description, one line per option. */
export function helpText(usage: string, description: string, specs: readonly OptionSpec[]): string {
  const lines = specs.map((s) => {
    const meta = s.metavar ?? `<${s.name}>`;
    const arg = s.kind === 'flag' ? '' : s.kind === 'many' ? ` ${meta} [${meta} ...]` : s.kind === 'any' ? ` [${meta} ...]` : s.kind === 'optional' ? ` [${meta}]` : ` ${meta}`;
    const names = [s.short ? `-${s.short}${arg}` : '', `--${s.name}${arg}`].filter(Boolean).join(', ');
    return `  ${names}\n      ${s.help}`;
  });
  return `usage: ${usage}\n\n${description}\n\noptions:\n  -h, --help\n      show this help message and exit\n${lines.join('\n')}\n`;
}
