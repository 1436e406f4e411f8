#!/usr/bin/env node
/**
 * in-toto-match-products (in-toto >= 2.0; not in Debian's 1.3.1) with the reference's flags and exit codes:
 * records the local artifacts and compares them with the products of a link, 0 when they match, 1 when they
 * do not (with -v, which ones and how, on stdout) or the link cannot be read, 2 on wrong arguments. The link's
 * signature is not checked, as in the reference.
 */
import { readFile } from 'node:fs/promises';
import { initEngine } from '../engine.js';
import { readEnvelope } from '../metadata/envelope.js';
import { InTotoError } from '../errors.js';
import { matchProducts } from '../record/link.js';
import { parseLink } from '../metadata/models.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, parseCommandLine, RECORDING_OPTIONS as O, runTool, single, skipLogger } from './common.js';
import { exitCodeOf } from './exit-code.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'link', short: 'l', kind: 'one', metavar: '<path>', help: 'the link metadata file' },
  { name: 'paths', short: 'p', kind: 'many', metavar: '<path>', help: 'files or directories of the local artifacts (default: the current directory)' },
  { name: 'exclude', short: 'e', kind: 'many', metavar: '<pattern>', help: 'gitignore-style patterns of artifacts not to match' },
  O.lstripPaths,
  O.verbose,
];

const CLI = {
  tool: 'in-toto-match-products',
  usage: 'in-toto-match-products [-h] -l <path> [-p <path> [<path> ...]] [-e <pattern> [<pattern> ...]] [--lstrip-paths <path> [<path> ...]] [-v]',
  description: 'Checks if local artifacts match the products in the given link. Exits 0 when they do, 1 when they do not, 2 on wrong arguments.',
  options: OPTIONS,
  required: ['link'],
  examples: [
    { does: 'check that the files in the current directory are the products the package step recorded', command: 'in-toto-match-products -l package.1a2b3c4d.link' },
    { does: 'only the files under dist/, recorded as paths without the dist/ prefix', command: 'in-toto-match-products -l build.1a2b3c4d.link -p dist --lstrip-paths dist/' },
  ],
};

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  const verbose = parsed.values.has('verbose');
  const log = new Log(CLI.tool, verbose ? 'verbose' : 'normal');
  const path = single(parsed, 'link')!;
  return exitCodeOf(log, async () => {
    await initEngine();
    let link;
    try {
      const envelope = readEnvelope(await readFile(path));
      link = parseLink(envelope.signed, { root: envelope.kind === 'metablock' ? 'signed' : 'payload' });
    } catch (error) {
      throw new InTotoError(error instanceof InTotoError ? error.code : 'IO', `cannot read the link ${path}: ${(error as Error).message}`, { path }, { cause: error });
    }
    const result = await matchProducts(link, {
      paths: parsed.values.get('paths'),
      excludePatterns: parsed.values.get('exclude'),
      lstripPaths: parsed.values.get('lstrip-paths'),
      onSkip: skipLogger(log),
    });
    const matched = result.onlyInProducts.length + result.notInProducts.length + result.differ.length === 0;
    if (verbose) {
      const lines = matched
        ? ['Local artifacts match products in passed link.']
        : [
            "Local artifacts don't match products in passed link.",
            ...result.onlyInProducts.map((name) => `Only in products: ${name}`),
            ...result.notInProducts.map((name) => `Not in products: ${name}`),
            ...result.differ.map((name) => `Hashes differ: ${name}`),
          ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return matched ? 0 : 1;
  });
}

runTool(CLI, main);
