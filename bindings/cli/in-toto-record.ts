#!/usr/bin/env node
/**
 * in-toto-record with the reference's subcommands, flags and exit codes (0 done, 1 failed, 2 usage), for steps
 * that are not one command: `start` records materials into a signed `.<name>.<keyid prefix>.link-unfinished`
 * in the current directory; `stop` checks that file's signature, records products and writes
 * `<name>.<keyid prefix>.link`, then removes the unfinished file.
 */
import { initEngine } from '../engine.js';
import { recordStart, recordStop } from '../record/link.js';
import { UsageError, type OptionSpec } from './args.js';
import {
  artifactOptionsFromArgs, formatOf, Log, parseCommandLine, Progress, readUserSettings, RECORDING_OPTIONS as O, recordingOutcome, requireKeyOrGpg,
  runTool, signingKeyFromArgs, single, usageError, VERSION, type CommandLine,
} from './common.js';

const SHARED: readonly OptionSpec[] = [O.stepName, O.key, O.keyType, O.password, O.gpg, O.gpgHome, O.exclude, O.basePath, O.lstripPaths, O.useDsse, O.attestation, O.verbose, O.quiet];

const TOP = {
  tool: 'in-toto-record',
  usage: 'in-toto-record [-h] [--version] {start,stop} ...',
};

const DESCRIPTION =
  'Creates a signed link in two commands, for supply chain steps that are not one command (for those, use\n' +
  "in-toto-run). 'start' records the materials into '.<name>.<keyid prefix>.link-unfinished'; 'stop' checks\n" +
  "that file's signature, records the products and writes '<name>.<keyid prefix>.link'. Exits 0 on success,\n" +
  '1 when recording or signing fails (nothing is written then), 2 on wrong arguments.';

const SUBCOMMANDS: Record<'start' | 'stop', CommandLine> = {
  start: {
    tool: 'in-toto-record start',
    usage: 'in-toto-record start [-h] -n <name> [-k <path>] [options] [-m <path> [<path> ...]]',
    description: DESCRIPTION,
    required: ['step-name'],
    options: [...SHARED, { name: 'materials', short: 'm', kind: 'many', metavar: '<path>', help: 'files or directories whose paths and hashes are recorded as materials (symlinks followed)' }],
    examples: [
      { does: 'start the review step: record the sources as materials', command: 'in-toto-record start -n review -k alice -t ed25519 -m src' },
    ],
  },
  stop: {
    tool: 'in-toto-record stop',
    usage: 'in-toto-record stop [-h] -n <name> [-k <path>] [options] [-p <path> [<path> ...]] [-d <directory>]',
    description: DESCRIPTION,
    required: ['step-name'],
    options: [
      ...SHARED,
      { name: 'products', short: 'p', kind: 'many', metavar: '<path>', help: 'files or directories whose paths and hashes are recorded as products (symlinks followed)' },
      O.metadataDirectory,
    ],
    examples: [
      { does: 'finish it: record the products and write review.<keyid>.link', command: 'in-toto-record stop -n review -k alice -t ed25519 -p src' },
    ],
  },
};

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '-h' || first === '--help') {
    process.stdout.write(
      `usage: ${TOP.usage}\n\n${DESCRIPTION}\n\nsubcommands:\n  start   record materials\n  stop    record products and write the link\n\n` +
        'examples:\n  a review step done by hand: record the sources, work, then record the result:\n' +
        '    in-toto-record start -n review -k alice -t ed25519 -m src && in-toto-record stop -n review -k alice -t ed25519 -p src\n',
    );
    return 0;
  }
  if (first === '--version') {
    process.stdout.write(`${TOP.tool} (in-toto-wasm) ${VERSION}\n`);
    return 0;
  }
  if (first === undefined) throw new UsageError('the following arguments are required: command');
  if (first !== 'start' && first !== 'stop') throw new UsageError(`argument command: invalid choice: '${first}' (choose from 'start', 'stop')`);

  const cli = SUBCOMMANDS[first];
  let parsed;
  try {
    parsed = parseCommandLine(cli, rest);
    if (!parsed) return 0;
    if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  } catch (error) {
    if (error instanceof UsageError) return usageError(cli, error);
    throw error;
  }
  // The reference checks this with its top-level parser.
  requireKeyOrGpg(parsed);

  const progress = new Progress(TOP.tool);
  const log = Log.fromArgs(cli.tool, parsed, progress);
  return recordingOutcome(log, progress, 'link metadata', async () => {
    const settings = readUserSettings();
    const key = await signingKeyFromArgs(parsed);
    await initEngine();
    const name = single(parsed, 'step-name')!;
    const common = { name, key, format: formatOf(parsed), ...artifactOptionsFromArgs(parsed, settings, log) };
    if (first === 'start') {
      log.info(`Start recording '${name}'...`);
      progress.stage('recording materials');
      return (await recordStart({ ...common, materials: parsed.values.get('materials') })).path;
    }
    log.info(`Stop recording '${name}'...`);
    progress.stage('recording products');
    return (await recordStop({ ...common, products: parsed.values.get('products'), metadataDirectory: single(parsed, 'metadata-directory') })).path;
  });
}

runTool(TOP, main);
