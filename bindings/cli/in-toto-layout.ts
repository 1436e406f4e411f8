#!/usr/bin/env node
/**
 * in-toto-layout: write, check and draw layouts.
 *
 *   in-toto-layout create DESCRIPTION.yaml|json [-o root.layout] [-k KEY ...]   a layout from a description
 *   in-toto-layout add-key LAYOUT PUBKEY ... [--step NAME ...] [-k KEY ...]     functionary keys
 *   in-toto-layout set-expiry LAYOUT (--in 6m | --at DATE) [-k KEY ...]         expiry
 *   in-toto-layout sign LAYOUT -k KEY ...                                        signatures
 *   in-toto-layout lint LAYOUT|DESCRIPTION [--json] [--ignore CODE ...]         findings with codes
 *   in-toto-layout graph LAYOUT|DESCRIPTION [-o chain.svg] [--verdict v.json]   an SVG of the chain
 *
 * Exit codes: 0 done (lint: nothing at the --fail-on level), 1 failed (lint: findings), 2 wrong arguments.
 * Layouts are written as in-toto 1.3.1 writes them; a changed layout loses its signatures (they no longer
 * hold), so add-key and set-expiry take -k to sign again in the same step.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { initEngine, parseJson } from '../engine.js';
import { readEnvelope, serializeEnvelope, signEnvelope, createDsse, createMetablock, type Envelope } from '../metadata/envelope.js';
import { InTotoError } from '../errors.js';
import { renderChainSvg } from '../layout/graph.js';
import type { KeyType, PrivateKey } from '../keys/keys.js';
import { loadPrivateKey } from '../keys/load-private-key.js';
import { isGpgKey } from '../keys/openpgp/key.js';
import { loadVerificationKey } from '../keys/verification-key.js';
import {
  addPeriod, formatExpires, LayoutBuilder, layoutFromDescription, parsePeriod, signLayout,
} from '../layout/layout-builder.js';
import { LINT_CODES, lintLayout, type LintCode, type LintFinding } from '../layout/lint.js';
import { layoutToJSON, listUnknownFields, parseLayout, type Layout } from '../metadata/models.js';
import type { Verdict } from '../verify/verify.js';
import type { AttestationVerdict } from '../verify/attestation-layout.js';
import { readCommandLine, UsageError, type CommandLine, type OptionSpec, type Parsed } from './args.js';
import { withKeyTypeHint } from './hints.js';
import { runTool } from './run-tool.js';

const KEY_TYPES = ['rsa', 'ed25519', 'ecdsa'] as const;

const SIGNING: readonly OptionSpec[] = [
  { name: 'key', short: 'k', kind: 'many', once: true, metavar: '<path>', help: 'private key files to sign the layout with (securesystemslib JSON or PEM, as in-toto-keygen writes them)' },
  { name: 'key-type', short: 't', kind: 'many', once: true, choices: KEY_TYPES, metavar: '{rsa,ed25519,ecdsa}', help: 'expected types of the --key files, by position (detected when absent)' },
  { name: 'password-file', kind: 'one', metavar: '<path>', help: 'file whose first line is the password of encrypted --key files' },
];
const OUTPUT: OptionSpec = { name: 'output', short: 'o', kind: 'one', metavar: '<path>', help: 'where to write the layout (default: over LAYOUT)' };
const NOW: OptionSpec = { name: 'now', kind: 'one', metavar: '<date>', help: 'the time to compute expiry from (YYYY-MM-DDTHH:MM:SSZ; default: now)' };

interface Command {
  readonly usage: string;
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** Options the command cannot do without. */
  readonly required?: readonly string[];
  readonly examples?: CommandLine['examples'];
  readonly run: (args: Parsed) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  create: {
    usage: 'in-toto-layout create DESCRIPTION [-o OUT] [-k KEY ...] [--dsse]',
    description:
      'Writes a layout from a YAML or JSON description (readme, expires or expires_in, keys by name, steps with\n' +
      'functionaries, threshold, command, materials and products rules, inspections with run and rules).\n' +
      'Key files named in the description are read relative to it. Lint findings are shown on stderr; with\n' +
      'errors among them nothing is written and the exit code is 1, unless --force.',
    options: [
      { ...OUTPUT, help: 'where to write the layout (default: root.layout)' },
      ...SIGNING,
      { name: 'dsse', kind: 'flag', help: 'write a DSSE envelope instead of a Metablock (in-toto 1.3.1 reads Metablocks)' },
      { name: 'force', kind: 'flag', help: 'write the layout even when lint finds errors' },
      NOW,
    ],
    examples: [
      { does: "write and sign root.layout from chain.yml with the owner's key", command: 'in-toto-layout create chain.yml -o root.layout -k owner' },
    ],
    run: create,
  },
  'add-key': {
    usage: 'in-toto-layout add-key LAYOUT PUBKEY [PUBKEY ...] [--step NAME ...] [-o OUT] [-k KEY ...]',
    description: "Adds functionary public keys to the layout's keys and, with --step, authorizes them for those steps.\nOpenPGP keys exported by gpg (binary or armored) go in as the reference's key dicts, signing subkeys included.",
    options: [
      { name: 'step', kind: 'many', metavar: '<name>', help: 'steps whose pubkeys get the keys' },
      OUTPUT,
      ...SIGNING,
    ],
    examples: [
      { does: "authorize dave's key for the build step, and sign again", command: 'in-toto-layout add-key root.layout dave.pub --step build -k owner' },
    ],
    run: addKey,
  },
  'set-expiry': {
    usage: 'in-toto-layout set-expiry LAYOUT (--in PERIOD | --at DATE) [-o OUT] [-k KEY ...]',
    description: 'Sets when the layout expires: --in 6m (y, m, w, d, h; from now) or --at 2027-01-01T00:00:00Z.',
    options: [
      { name: 'in', kind: 'one', metavar: '<period>', help: 'expire this long from now, e.g. 30d, 6m, 1y, "1y 6m"' },
      { name: 'at', kind: 'one', metavar: '<date>', help: 'expire at this time, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD' },
      { name: 'force', kind: 'flag', help: 'set a date in the past all the same' },
      OUTPUT,
      ...SIGNING,
      NOW,
    ],
    examples: [
      { does: 'renew an expired layout for six months, and sign it again', command: 'in-toto-layout set-expiry root.layout --in 6m -k owner' },
    ],
    run: setExpiry,
  },
  sign: {
    usage: 'in-toto-layout sign LAYOUT -k KEY [KEY ...] [-o OUT]',
    description: 'Adds signatures to a layout (a key that already signed is replaced), as in-toto-sign does for layouts.',
    options: [OUTPUT, ...SIGNING],
    required: ['key'],
    examples: [
      { does: "add the second owner's signature to a layout", command: 'in-toto-layout sign root.layout -k owner2' },
    ],
    run: sign,
  },
  lint: {
    usage: 'in-toto-layout lint LAYOUT|DESCRIPTION [--json] [--ignore CODE ...] [--fail-on LEVEL]',
    description:
      'Checks a layout (or a description) for what verifies but is probably not meant: unclosed product rules,\n' +
      'MATCH rules that cannot match, unreachable rules, thresholds, unused keys, expiry. Each finding has a code,\n' +
      'explains the risk and the fix. An attestation layout (ITE-10/11, in-toto-attestation-verify) is checked for what\n' +
      'its verifier refuses, predicates without functionaries, unreachable thresholds, unknown predicate types, and CEL\n' +
      "rules that do not parse or select fields the predicate type lacks. Exits 1 when a finding reaches --fail-on\n" +
      '(default: warning).',
    options: [
      { name: 'json', kind: 'flag', help: 'print the findings as JSON on stdout' },
      { name: 'ignore', kind: 'many', metavar: '<code>', help: 'codes not to report' },
      { name: 'fail-on', kind: 'one', choices: ['error', 'warning', 'never'], metavar: '{error,warning,never}', help: 'lowest severity that makes the exit code 1 (default: warning)' },
      { name: 'soon', kind: 'one', metavar: '<days>', help: 'report LAYOUT_EXPIRES_SOON within this many days (default 30)' },
      { name: 'codes', kind: 'flag', help: 'list every code and exit' },
      { name: 'quiet', short: 'q', kind: 'flag', help: 'print nothing; the exit code says it' },
      NOW,
    ],
    examples: [
      { does: 'check a description before making the layout; fail only on errors', command: 'in-toto-layout lint chain.yml --fail-on error' },
      { does: 'every code, its severity and meaning', command: 'in-toto-layout lint --codes' },
      { does: 'an attestation layout (YAML, JSON, or signed)', command: 'in-toto-layout lint layout.yml' },
    ],
    run: lint,
  },
  graph: {
    usage: 'in-toto-layout graph LAYOUT|DESCRIPTION [-o OUT.svg] [--verdict VERDICT.json]',
    description:
      'Draws the supply chain as SVG: steps and inspections as boxes, artifact flow (MATCH rules) as arrows,\n' +
      'functionaries and thresholds. With --verdict (what in-toto-verify --json prints), failed steps and rules\n' +
      'are marked. An attestation layout is drawn with its expected predicates and CEL rules (its verdict: what\n' +
      'in-toto-attestation-verify --json prints). Writes to stdout unless -o is given.',
    options: [
      { name: 'output', short: 'o', kind: 'one', metavar: '<path>', help: 'the SVG file to write (default: stdout)' },
      { name: 'verdict', kind: 'one', metavar: '<path>', help: 'a verdict as JSON (in-toto-verify --json) to paint onto the graph' },
      { name: 'key-name', kind: 'many', metavar: 'KEYID=NAME', help: 'show a functionary by name (the id or a prefix of it)' },
      { name: 'title', kind: 'one', metavar: '<text>', help: 'heading of the picture' },
    ],
    examples: [
      { does: 'draw the chain with what failed marked (the verdict written outside the directory inspections record)', command: 'in-toto-verify -l root.layout -k owner.pub -t ed25519 --json > ../verdict.json; in-toto-layout graph root.layout --verdict ../verdict.json -o ../chain.svg' },
    ],
    run: graph,
  },
};

const USAGE = 'in-toto-layout {create,add-key,set-expiry,sign,lint,graph} ...';
const OVERVIEW =
  'Write, check and draw in-toto layouts.\n\ncommands:\n' +
  Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.usage.replace(/^in-toto-layout \S+ /, '')}`).join('\n') +
  '\n\nin-toto-layout COMMAND --help shows a command\'s options and examples.\n\nexamples:\n' +
  '  make a layout from a description, signed by the owner, and check it:\n    in-toto-layout create chain.yml -o root.layout -k owner && in-toto-layout lint root.layout\n';

const say = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

// ---------------------------------------------------------------------------------------------------------
// Reading and writing

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface YamlModule {
  parse(text: string, options?: Record<string, unknown>): unknown;
}

/** A YAML or JSON document. YAML needs the `yaml` package; JSON is read strictly (no duplicate keys). */
async function readDocument(path: string, bytes: Uint8Array): Promise<unknown> {
  const text = utf8.decode(bytes);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || /\.json$/i.test(path)) return parseJson(bytes);
  let yaml: YamlModule;
  try {
    const name = 'yaml';
    yaml = (await import(name)) as YamlModule;
  } catch (error) {
    throw new InTotoError('UNSUPPORTED', `${path}: reading YAML needs the 'yaml' package (npm install yaml); JSON descriptions work without it`, { path }, { cause: error });
  }
  try {
    // YAML 1.2 core schema: dates stay strings; duplicate keys are refused; aliases are bounded.
    return yaml.parse(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true });
  } catch (error) {
    const message = (error as Error).message;
    // A bare `*` starts a YAML alias: the usual slip in a rule list (`products: [*]`).
    const hint = /alias/i.test(message) ? "; a pattern that starts with * must be quoted in YAML ('*', or a whole rule such as \"DISALLOW *\")" : '';
    throw new InTotoError('FORMAT', `${path}: ${message}${hint}`, { path }, { cause: error });
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InTotoError('IO', `cannot read ${path}: ${(error as Error).message}`, { path }, { cause: error });
  }
}

async function writeBytes(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (error) {
    throw new InTotoError('IO', `cannot write ${path}: ${(error as Error).message}`, { path }, { cause: error });
  }
}

interface LayoutInput {
  readonly layout: Layout;
  readonly envelope?: Envelope;
  readonly keyNames: ReadonlyMap<string, string>;
}

/** A layout file (Metablock, DSSE, or a bare `signed` object) or a description. */
async function readLayoutOrDescription(path: string, now?: Date): Promise<LayoutInput> {
  const bytes = await readBytes(path);
  const doc = await readDocument(path, bytes);
  if (typeof doc === 'object' && doc !== null && ('signed' in doc || 'payload' in doc)) {
    const envelope = readEnvelope(bytes);
    return { layout: parseLayout(envelope.signed, { root: 'signed' }), envelope, keyNames: new Map() };
  }
  if (typeof doc === 'object' && doc !== null && (doc as Record<string, unknown>)._type === 'layout' && 'steps' in doc && 'keys' in doc) {
    return { layout: parseLayout(doc), keyNames: new Map() };
  }
  const described = await layoutFromDescription(doc, { ...(now ? { now } : {}), resolveKey: keyResolver(path) });
  return { layout: described.layout, keyNames: described.keyNames };
}

function keyResolver(descriptionPath: string) {
  const base = dirname(resolve(descriptionPath));
  return async (ref: { path: string; type?: KeyType }) => {
    const file = resolve(base, ref.path);
    return loadVerificationKey(await readBytes(file), ref.type ? { keyType: ref.type } : {});
  };
}

async function readLayoutFile(path: string): Promise<{ layout: Layout; envelope: Envelope }> {
  const envelope = readEnvelope(await readBytes(path));
  if (envelope.signed._type !== 'layout') throw new InTotoError('FORMAT', `${path} is not a layout (its _type is ${JSON.stringify(envelope.signed._type)})`, { path });
  return { layout: parseLayout(envelope.signed, { root: 'signed' }), envelope };
}

async function loadSigners(args: Parsed): Promise<PrivateKey[]> {
  const paths = args.values.get('key') ?? [];
  const types = args.values.get('key-type') ?? [];
  if (types.length > 0 && types.length !== paths.length) {
    throw new UsageError(`the number of --key-type (${types.length}) must match the number of --key (${paths.length})`);
  }
  let password: string | undefined;
  const passwordFile = args.values.get('password-file')?.[0];
  if (passwordFile !== undefined) password = utf8.decode(await readBytes(passwordFile)).split(/\r?\n/)[0];
  const keys: PrivateKey[] = [];
  for (const [i, path] of paths.entries()) {
    const bytes = await readBytes(path);
    const keyType = types[i] as KeyType | undefined;
    try {
      keys.push(await loadPrivateKey(bytes, { ...(keyType ? { keyType } : {}), ...(password !== undefined ? { password } : {}) }));
    } catch (error) {
      // An unneeded password for one unencrypted key among encrypted ones: try again without it.
      if (error instanceof InTotoError && error.code === 'KEY_PASSWORD' && password !== undefined) {
        try {
          keys.push(await loadPrivateKey(bytes, keyType ? { keyType } : {}));
          continue;
        } catch {
          // report the first error
        }
      }
      if (error instanceof InTotoError) throw new InTotoError(error.code, `key ${path}: ${withKeyTypeHint(error.message, '--key-type')}`, { path }, { cause: error });
      throw error;
    }
  }
  return keys;
}

function parseNow(args: Parsed): Date | undefined {
  const text = args.values.get('now')?.[0];
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?$/.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`argument --now: expected YYYY-MM-DDTHH:MM:SSZ, got '${text}'`);
  }
  return date;
}

function positional(args: Parsed, min: number, max: number, what: string): string[] {
  if (args.rest.length < min) throw new UsageError(`the following arguments are required: ${what}`);
  if (args.rest.length > max) throw new UsageError(`unrecognized arguments: ${args.rest.slice(max).join(' ')}`);
  return [...args.rest];
}

/** Writes a changed layout: the old signatures no longer hold, so they go; `-k` signs it again. */
async function writeChanged(layout: Layout, previous: Envelope, out: string, args: Parsed): Promise<void> {
  const signers = await loadSigners(args);
  const lost = listUnknownFields(layout);
  if (lost.length > 0) say(`warning: fields in-toto 1.3.1 does not know are dropped: ${lost.join(', ')}`);
  const json = layoutToJSON(layout) as unknown as Record<string, unknown>;
  let envelope: Envelope = previous.kind === 'dsse' ? createDsse(json) : createMetablock(json);
  for (const key of signers) envelope = await signEnvelope(envelope, key);
  if (previous.signatures.length > 0) {
    say(`note: the layout changed, so its ${previous.signatures.length} signature${previous.signatures.length === 1 ? '' : 's'} no longer hold${previous.signatures.length === 1 ? 's' : ''} and ${previous.signatures.length === 1 ? 'was' : 'were'} removed` +
      (signers.length > 0 ? `; signed again by ${signers.map((k) => k.keyid.slice(0, 8)).join(', ')}` : '; sign it again (in-toto-layout sign LAYOUT -k KEY)'));
  }
  await writeBytes(out, serializeEnvelope(envelope));
}

function printFindings(findings: readonly LintFinding[], verbose: boolean): void {
  for (const f of findings) {
    say(`${f.severity} [${f.code}] ${f.message}`);
    if (verbose) {
      say(`    risk: ${f.risk}`);
      say(`    fix:  ${f.fix}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Commands

async function create(args: Parsed): Promise<number> {
  const [path] = positional(args, 1, 1, 'DESCRIPTION');
  const now = parseNow(args);
  const bytes = await readBytes(path!);
  const doc = await readDocument(path!, bytes);
  const { layout } = await layoutFromDescription(doc, { ...(now ? { now } : {}), resolveKey: keyResolver(path!) });
  const out = args.values.get('output')?.[0] ?? 'root.layout';
  // Linted before anything is written: a layout with errors (a threshold no one can meet, a MATCH from a step
  // that does not exist) would fail every verification, or pass one it should not.
  const findings = lintLayout(layout, now ? { now } : {});
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length > 0 && !args.values.has('force')) {
    say(`lint: ${findings.length} finding${findings.length === 1 ? '' : 's'}, ${errors.length} of them error${errors.length === 1 ? '' : 's'}:`);
    printFindings(findings, true);
    say(`nothing written: fix the description (in-toto-layout lint ${path} explains each finding), or write it anyway with --force`);
    return 1;
  }
  const signers = await loadSigners(args);
  const envelope = await signLayout(layout, signers, { format: args.values.has('dsse') ? 'dsse' : 'metablock' });
  await writeBytes(out, serializeEnvelope(envelope));
  say(`wrote ${out}: ${layout.steps.length} step${layout.steps.length === 1 ? '' : 's'}, ${layout.inspect.length} inspection${layout.inspect.length === 1 ? '' : 's'}, ${Object.keys(layout.keys).length} key${Object.keys(layout.keys).length === 1 ? '' : 's'}, expires ${layout.expires}, ${signers.length === 0 ? 'unsigned' : `signed by ${signers.map((k) => k.keyid.slice(0, 8)).join(', ')}`}`);
  if (findings.length > 0) {
    say(`lint: ${findings.length} finding${findings.length === 1 ? '' : 's'} (in-toto-layout lint ${out} explains them):`);
    printFindings(findings, false);
  }
  return 0;
}

async function addKey(args: Parsed): Promise<number> {
  const [path, ...keyPaths] = positional(args, 2, Infinity, 'LAYOUT PUBKEY');
  const { layout, envelope } = await readLayoutFile(path!);
  const builder = LayoutBuilder.from(layout);
  const steps = args.values.get('step') ?? [];
  const known = new Set(layout.steps.map((s) => s.name));
  for (const step of steps) {
    if (!known.has(step)) throw new InTotoError('FORMAT', `the layout has no step '${step}' (steps: ${[...known].join(', ') || 'none'})`, { step });
  }
  for (const keyPath of keyPaths) {
    let key;
    try {
      key = await loadVerificationKey(await readBytes(keyPath));
    } catch (error) {
      if (error instanceof InTotoError) throw new InTotoError(error.code, `${keyPath}: ${error.message}`, { path: keyPath }, { cause: error });
      throw error;
    }
    builder.addKey(key);
    for (const step of steps) builder.updateStep(step, (s) => s.functionaries(key));
    say(`added key ${key.keyid} (${isGpgKey(key) ? `OpenPGP ${key.type}${key.subkeys.size > 0 ? ` with ${key.subkeys.size} signing subkey${key.subkeys.size === 1 ? '' : 's'}` : ''}` : key.keytype}) from ${keyPath}${steps.length > 0 ? ` for ${steps.map((s) => `'${s}'`).join(', ')}` : ''}`);
  }
  await writeChanged(builder.build(), envelope, args.values.get('output')?.[0] ?? path!, args);
  return 0;
}

async function setExpiry(args: Parsed): Promise<number> {
  const [path] = positional(args, 1, 1, 'LAYOUT');
  const period = args.values.get('in')?.[0];
  const at = args.values.get('at')?.[0];
  if ((period === undefined) === (at === undefined)) throw new UsageError('give one of --in PERIOD or --at DATE');
  const { layout, envelope } = await readLayoutFile(path!);
  const now = parseNow(args) ?? new Date();
  const builder = LayoutBuilder.from(layout, { now });
  if (period !== undefined) builder.expires(formatExpires(addPeriod(now, parsePeriod(period, '--in'))));
  else builder.expires(at!);
  const changed = builder.build();
  if (Date.parse(changed.expires) < now.getTime() && !args.values.has('force')) {
    throw new InTotoError('FORMAT', `${changed.expires} is in the past: the layout would fail every verification (LAYOUT_EXPIRED); give a later date, or --force`, { field: 'expires' });
  }
  say(`expiry: ${layout.expires} -> ${changed.expires}`);
  await writeChanged(changed, envelope, args.values.get('output')?.[0] ?? path!, args);
  return 0;
}

async function sign(args: Parsed): Promise<number> {
  const [path] = positional(args, 1, 1, 'LAYOUT');
  const { envelope } = await readLayoutFile(path!);
  let signed: Envelope = envelope;
  for (const key of await loadSigners(args)) signed = await signEnvelope(signed, key);
  await writeBytes(args.values.get('output')?.[0] ?? path!, serializeEnvelope(signed));
  say(`signed: ${signed.signatures.map((s) => s.keyid.slice(0, 8)).join(', ')}`);
  return 0;
}

async function lint(args: Parsed): Promise<number> {
  if (args.values.has('codes')) {
    for (const [code, info] of Object.entries(LINT_CODES)) process.stdout.write(`${code.padEnd(22)} ${info.severity.padEnd(8)} ${info.summary}\n`);
    return 0;
  }
  const [path] = positional(args, 1, 1, 'LAYOUT');
  const now = parseNow(args);
  const ignore = (args.values.get('ignore') ?? []) as LintCode[];
  for (const code of ignore) if (!Object.hasOwn(LINT_CODES, code)) throw new UsageError(`argument --ignore: unknown code '${code}' (in-toto-layout lint --codes lists them)`);
  const soonText = args.values.get('soon')?.[0];
  const soon = soonText === undefined ? undefined : Number(soonText);
  if (soon !== undefined && (!Number.isSafeInteger(soon) || soon < 0)) throw new UsageError(`argument --soon: expected a number of days, got '${soonText}'`);
  const lintOptions = { ...(now ? { now } : {}), ...(soon !== undefined ? { expiresSoonDays: soon } : {}), ignore };
  const attestationLayout = await readAttestationLayoutDocument(path!);
  let findings: LintFinding[];
  if (attestationLayout !== undefined) {
    const { lintAttestationLayout } = await import('../layout/attestation-lint.js');
    findings = lintAttestationLayout(attestationLayout, lintOptions);
  } else {
    findings = lintLayout((await readLayoutOrDescription(path!, now)).layout, lintOptions);
  }
  if (args.values.has('json')) process.stdout.write(JSON.stringify(findings, null, 2) + '\n');
  else if (!args.values.has('quiet')) {
    printFindings(findings, true);
    const errors = findings.filter((f) => f.severity === 'error').length;
    say(findings.length === 0 ? `${path}: no findings` : `${path}: ${errors} error${errors === 1 ? '' : 's'}, ${findings.length - errors} warning${findings.length - errors === 1 ? '' : 's'}`);
  }
  const failOn = args.values.get('fail-on')?.[0] ?? 'warning';
  const failing = failOn === 'never' ? [] : findings.filter((f) => failOn === 'warning' || f.severity === 'error');
  return failing.length > 0 ? 1 : 0;
}

async function graph(args: Parsed): Promise<number> {
  const [path] = positional(args, 1, 1, 'LAYOUT');
  const attestationLayout = await readAttestationLayoutDocument(path!);
  if (attestationLayout !== undefined) return attestationGraph(args, attestationLayout);
  const { layout, keyNames } = await readLayoutOrDescription(path!);
  const names = readKeyNames(args, new Set(Object.keys(layout.keys).concat(layout.steps.flatMap((s) => s.pubkeys))), 'key', keyNames);
  let verdict: Verdict | undefined;
  const verdictPath = args.values.get('verdict')?.[0];
  if (verdictPath !== undefined) {
    const value = parseJson(await readBytes(verdictPath)) as Verdict;
    if (typeof value !== 'object' || value === null || typeof value.passed !== 'boolean' || !Array.isArray(value.failures)) {
      throw new InTotoError('FORMAT', `${verdictPath} is not a verdict (what in-toto-verify --json prints)`, { path: verdictPath });
    }
    verdict = {
      ...value,
      warnings: (value.warnings ?? []).map((w) => ({ ...w, layout: w.layout ?? [] })),
      trace: value.trace ?? [],
      failures: value.failures.map((f) => ({ ...f, layout: f.layout ?? [] })),
    };
  }
  const title = args.values.get('title')?.[0];
  return writeSvg(args, renderChainSvg(layout, { keyNames: names, ...(verdict ? { verdict } : {}), ...(title !== undefined ? { title } : {}) }));
}

/** `--key-name ID=NAME ...`: each id prefix must name exactly one of `ids`; added to `known` (names from a description). */
function readKeyNames(args: Parsed, ids: ReadonlySet<string>, noun: 'key' | 'functionary', known: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const names = new Map(known);
  for (const pair of args.values.get('key-name') ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`argument --key-name: expected ${noun === 'key' ? 'KEYID' : 'ID'}=NAME, got '${pair}'`);
    const prefix = pair.slice(0, eq).toLowerCase();
    const matches = [...ids].filter((id) => id.toLowerCase().startsWith(prefix));
    if (matches.length !== 1) throw new UsageError(`argument --key-name: '${prefix}' names ${matches.length === 0 ? `no ${noun}` : `several ${noun === 'key' ? 'keys' : 'functionaries'}`} of the layout`);
    names.set(matches[0]!, pair.slice(eq + 1));
  }
  return names;
}

/** The SVG to `-o FILE`, or to stdout (no -o, or `-o -`). */
async function writeSvg(args: Parsed, svg: string): Promise<number> {
  const out = args.values.get('output')?.[0];
  if (out === undefined || out === '-') process.stdout.write(svg);
  else {
    await writeBytes(out, svg);
    say(`wrote ${out}`);
  }
  return 0;
}

/**
 * An attestation layout's document (ITE-10/11: top-level `functionaries`, steps with `expectedPredicates`), signed
 * (the envelope's `signed`) or not; `undefined` for anything else (a classic layout, a description).
 */
async function readAttestationLayoutDocument(path: string): Promise<unknown> {
  const bytes = await readBytes(path);
  const doc = await readDocument(path, bytes);
  const isAttestationLayout = (value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const v = value as Record<string, unknown>;
    if (v._type === 'layout') return false;
    return (Array.isArray(v.steps) && v.steps.some((s) => typeof s === 'object' && s !== null && 'expectedPredicates' in s)) || ('functionaries' in v && !('keys' in v));
  };
  if (typeof doc === 'object' && doc !== null && ('signed' in doc || 'payload' in doc)) {
    const envelope = readEnvelope(bytes);
    return isAttestationLayout(envelope.signed) ? envelope.signed : undefined;
  }
  if (!isAttestationLayout(doc)) return undefined;
  // Read again as in-toto-attestation-verify reads it (strict YAML: an unknown tag is an error there), so that lint
  // never passes a file the verifier refuses.
  const { readAttestationLayoutYaml } = await import('../verify/attestation-layout.js');
  return readAttestationLayoutYaml(bytes);
}

/** `graph` of an attestation layout: read as the verifier reads it, painted with an attestation verdict (`--json`). */
async function attestationGraph(args: Parsed, doc: unknown): Promise<number> {
  const [{ readAttestationLayout }, { attestationChainGraph }] = await Promise.all([import('../verify/attestation-layout.js'), import('../layout/attestation-graph.js')]);
  const layout = readAttestationLayout(doc);
  const names = readKeyNames(args, new Set(layout.functionaries.keys()), 'functionary');
  let verdict: AttestationVerdict | undefined;
  const verdictPath = args.values.get('verdict')?.[0];
  if (verdictPath !== undefined) {
    const value = parseJson(await readBytes(verdictPath)) as AttestationVerdict;
    if (typeof value !== 'object' || value === null || typeof value.passed !== 'boolean' || !Array.isArray(value.failures) || value.failures.some((f) => typeof f?.message !== 'string')) {
      throw new InTotoError('FORMAT', `${verdictPath} is not an attestation verdict (what in-toto-attestation-verify --json prints)`, { path: verdictPath });
    }
    verdict = value;
  }
  const title = args.values.get('title')?.[0];
  return writeSvg(args, renderChainSvg(attestationChainGraph(layout, { ...(verdict ? { verdict } : {}), names }), title !== undefined ? { title } : {}));
}

// ---------------------------------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    (name === undefined ? process.stderr : process.stdout).write(`usage: ${USAGE}\n\n${OVERVIEW}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write('in-toto-layout (in-toto-wasm) 0.1.0\n');
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`usage: ${USAGE}\nin-toto-layout: error: unknown command '${name}' (choose from ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    // The parser every tool shares: unique prefixes (`sign --k` is ambiguous, `--key-t` is --key-type),
    // bundled flags, -h and --version, as for the reference's argparse tools.
    const invocation = readCommandLine({ tool: `in-toto-layout ${name}`, ...command }, rest);
    if (invocation.kind !== 'run') {
      process.stdout.write(invocation.text);
      return 0;
    }
    await initEngine();
    return await command.run(invocation.parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`usage: ${command.usage}\nin-toto-layout ${name}: error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InTotoError) {
      process.stderr.write(`in-toto-layout ${name}: error: [${error.code}] ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

// drain: a large SVG written to a pipe must be flushed before the process ends.
runTool({ tool: 'in-toto-layout', usage: USAGE }, main, { drain: true });
