#!/usr/bin/env node
/**
 * in-toto-mock with the reference's flags and exit codes (0 written, 1 failed, 2 usage): runs the command with
 * the current directory recorded as materials and products and its streams recorded (and shown), and writes
 * the link unsigned to `<name>.link`, to look at, or to sign later with in-toto-sign. Verbose, as the
 * reference; it reads no settings (the reference's in-toto-mock does not either).
 */
import { initEngine } from '../engine.js';
import { mockStep } from '../record/link.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, parseCommandLine, phaseReporter, Progress, recordingOutcome, runTool, single, skipLogger } from './common.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'name', short: 'n', kind: 'one', metavar: '<name>', help: "name of the step: the link is written to '<name>.link'" },
];

const CLI = {
  tool: 'in-toto-mock',
  usage: 'in-toto-mock [-h] --name <name> -- <command> [args]',
  description:
    "A variant of in-toto-run that needs no key: runs the command, records every file in the current directory\n" +
    "as materials and products, and writes the unsigned link to '<name>.link'. Exits 0 when the link is\n" +
    'written, 1 when recording fails (nothing is written then), 2 on wrong arguments.',
  options: OPTIONS,
  required: ['name'],
  examples: [
    { does: "try out a step without a key: record what 'make' reads and writes into build.link", command: 'in-toto-mock --name build -- make' },
  ],
};

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length === 0) throw new UsageError('the following arguments are required: <command>');
  const progress = new Progress(CLI.tool);
  const log = new Log(CLI.tool, 'verbose', progress);
  const name = single(parsed, 'name')!;
  return recordingOutcome(log, progress, 'unsigned link metadata', async () => {
    await initEngine();
    log.info(`Running '${name}'...`);
    return (await mockStep({ name, command: parsed.rest, echo: true, onPhase: phaseReporter(log, progress), onSkip: skipLogger(log) })).path;
  });
}

runTool(CLI, main);
