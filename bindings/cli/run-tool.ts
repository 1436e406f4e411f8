/**
 * How every tool ends: its exit code, 2 after a usage error printed as argparse prints it, 1 with the stack after
 * any other exception (a bug). A file of its own, without node: imports, so that in-toto-verify starts without the
 * recording tools' modules (common.ts).
 */
import { UsageError, type CommandLine } from './args.js';

/** Prints a usage error as argparse does; returns its exit code, 2. */
export function usageError(cli: Pick<CommandLine, 'tool' | 'usage'>, error: UsageError): number {
  process.stderr.write(`usage: ${cli.usage}\n${cli.tool}: error: ${error.message}\n`);
  return 2;
}

/**
 * Runs a tool's `main`, ending with its code: 2 after a usage error it throws (see {@link usageError}), 1 with the
 * stack after any other exception (a bug). `drain`: set the exit code and let the process end by itself, so that
 * output still in a pipe (a large SVG) is written first.
 */
export function runTool(cli: Pick<CommandLine, 'tool' | 'usage'>, main: (argv: readonly string[]) => Promise<number>, options: { drain?: boolean } = {}): void {
  const end = (code: number) => {
    if (options.drain) process.exitCode = code;
    else process.exit(code);
  };
  main(process.argv.slice(2)).then(end, (error: unknown) => {
    if (error instanceof UsageError) return end(usageError(cli, error));
    process.stderr.write(`${cli.tool}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    end(1);
  });
}
