#!/usr/bin/env node
/**
 * in-toto-run with the reference's flags and exit codes (0 recorded, 1 failed, 2 usage): records materials,
 * runs the command, records products, signs the link and writes `<name>.<keyid prefix>.link`. Settings come
 * from `IN_TOTO_*` variables and rc files as in the reference; `--use-dsse` writes a DSSE envelope.
 */
import { initEngine } from '../engine.js';
import { runStep } from '../record/link.js';
import { UsageError, type OptionSpec } from './args.js';
import {
  artifactOptionsFromArgs, formatOf, Log, parseCommandLine, phaseReporter, Progress, readUserSettings, RECORDING_OPTIONS as O, recordingOutcome,
  requireKeyOrGpg, runTool, signingKeyFromArgs, single, timeoutSetting,
} from './common.js';

const OPTIONS: readonly OptionSpec[] = [
  O.stepName,
  { name: 'materials', short: 'm', kind: 'many', metavar: '<path>', help: 'files or directories whose paths and hashes are recorded before the command runs (symlinks followed)' },
  { name: 'products', short: 'p', kind: 'many', metavar: '<path>', help: 'files or directories whose paths and hashes are recorded after the command ran (symlinks followed)' },
  { name: 'record-streams', short: 's', kind: 'flag', help: "record the command's stdout and stderr in the link (and show them); not for interactive commands" },
  { name: 'no-command', short: 'x', kind: 'flag', help: 'record a link without running a command, e.g. for a signed-off step' },
  // Not in 1.3.1's tool; in-toto-golang's and newer python's flag: hash text with CRLF and lone CR read as LF.
  { name: 'normalize-line-endings', kind: 'flag', help: 'hash files with CRLF and CR line endings normalized to LF (as in-toto-golang and newer in-toto)' },
  O.key, O.keyType, O.password, O.gpg, O.gpgHome, O.exclude, O.basePath, O.lstripPaths, O.metadataDirectory, O.useDsse, O.attestation, O.verbose, O.quiet,
];

const CLI = {
  tool: 'in-toto-run',
  usage: 'in-toto-run <named arguments> [options] \\\n\t -- <command> [args]',
  description:
    "Runs a supply chain step's command and records it in signed link metadata: the paths and hashes of the\n" +
    "'materials' before the command and of the 'products' after it, the command, and its return value (and with\n" +
    "-s its stdout and stderr), written to '<name>.<keyid prefix>.link'. Exits 0 when the link is written, 1 when\n" +
    'recording or signing fails (nothing is written then), 2 on wrong arguments.',
  options: OPTIONS,
  required: ['step-name'],
  examples: [
    { does: "record the package step: foo.py as material, foo.tar.gz as product, signed with carol's key", command: 'in-toto-run -n package -m foo.py -p foo.tar.gz -k carol -t rsa -- tar zcvf foo.tar.gz foo.py' },
    { does: 'record a step that runs no command (files reviewed by hand), with an Ed25519 key', command: 'in-toto-run -n review -p src -k alice -t ed25519 --no-command' },
  ],
};

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  requireKeyOrGpg(parsed);
  const command = parsed.values.has('no-command') ? [] : parsed.rest;
  if (!parsed.values.has('no-command') && command.length === 0) throw new UsageError('No command specified. Please specify (or use the --no-command option)');

  const progress = new Progress(CLI.tool);
  const log = Log.fromArgs(CLI.tool, parsed, progress);
  return recordingOutcome(log, progress, 'link metadata', async () => {
    const settings = readUserSettings();
    const key = await signingKeyFromArgs(parsed);
    await initEngine();
    const name = single(parsed, 'step-name')!;
    log.info(`Running '${name}'...`);
    const { path } = await runStep({
      name,
      materials: parsed.values.get('materials'),
      products: parsed.values.get('products'),
      command,
      recordStreams: parsed.values.has('record-streams'),
      echo: true,
      // Read only when a command runs: the reference fails on a bad value only then.
      timeoutSeconds: command.length > 0 ? timeoutSetting(settings) : undefined,
      ...artifactOptionsFromArgs(parsed, settings, log),
      normalizeLineEndings: parsed.values.has('normalize-line-endings'),
      key,
      format: formatOf(parsed),
      metadataDirectory: single(parsed, 'metadata-directory'),
      onPhase: phaseReporter(log, progress),
    });
    return path;
  });
}

runTool(CLI, main);
