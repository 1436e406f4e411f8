/**
 * Builds supply chains with the reference's own tools (in-toto-keygen, in-toto-run, python's Layout and
 * Metablock), so both verifiers judge metadata neither of them wrote.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { layoutDocParts } from './chains.mjs';
import { makeTempDir, runPython, runReference } from './reference.js';

export type KeyType = 'ed25519' | 'rsa' | 'ecdsa';

export interface KeyFile {
  /** Path of the private key file; the public one is `${path}.pub`. */
  readonly path: string;
  readonly type: KeyType;
  readonly keyid: string;
}

/** Generates a key pair with in-toto-keygen and reads its key id as the reference computes it. */
export function makeKey(dir: string, name: string, type: KeyType): KeyFile {
  const path = join(dir, name);
  execFileSync('/usr/bin/in-toto-keygen', ['-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), path], { stdio: 'pipe' });
  const keyid = runPython(
    'import sys, json; from securesystemslib import interface; ' +
      'print(list(interface.import_publickeys_from_file([sys.argv[1]], [sys.argv[2]]).keys())[0])',
    undefined,
    [`${path}.pub`, type],
  ).toString().trim();
  return { path, type, keyid };
}

/** A key set made once and copied into each scenario (RSA generation is slow). */
export function makeKeySet(): Record<'owner' | 'alice' | 'bob' | 'carol' | 'dave' | 'erin', KeyFile> {
  const dir = makeTempDir('in-toto-keys-');
  return {
    owner: makeKey(dir, 'owner', 'ed25519'),
    alice: makeKey(dir, 'alice', 'ed25519'),
    bob: makeKey(dir, 'bob', 'ed25519'),
    carol: makeKey(dir, 'carol', 'rsa'),
    dave: makeKey(dir, 'dave', 'ecdsa'),
    erin: makeKey(dir, 'erin', 'ed25519'),
  };
}

export interface StepSpec {
  name: string;
  pubkeys: KeyFile[];
  threshold?: number;
  expected_command?: string[];
  expected_materials?: string[][];
  expected_products?: string[][];
}

export interface InspectionSpec {
  name: string;
  run: string[];
  expected_materials?: string[][];
  expected_products?: string[][];
}

export interface LayoutSpec {
  steps: StepSpec[];
  inspect?: InspectionSpec[];
  expires?: string;
  /** Keys that sign the layout (default: none, the caller signs). */
  signers: KeyFile[];
}

const WRITE_LAYOUT = `
import json, sys
from securesystemslib import interface
from in_toto.models.layout import Layout
from in_toto.models.metadata import Metablock
spec = json.load(sys.stdin)
keys = interface.import_publickeys_from_file([k["path"] + ".pub" for k in spec["keys"]], [k["type"] for k in spec["keys"]])
layout = Layout.read({"_type": "layout", "steps": spec["steps"], "inspect": spec["inspect"], "keys": keys,
                      "expires": spec["expires"], "readme": ""})
metablock = Metablock(signed=layout)
for signer in spec["signers"]:
    metablock.sign(interface.import_privatekey_from_file(signer["path"], signer["type"]))
metablock.dump(spec["out"])
`;

/** Writes a layout with python's in_toto.models and signs it with the spec's signers. */
export function writeLayout(out: string, spec: LayoutSpec): void {
  const { steps, inspect, keys } = layoutDocParts(spec);
  runPython(WRITE_LAYOUT, JSON.stringify({ steps, inspect, keys, signers: spec.signers, expires: spec.expires ?? '2099-01-01T00:00:00Z', out }));
}

/** Records a step with the reference's in-toto-run in `cwd` (links are written there). */
export function referenceRun(cwd: string, name: string, key: KeyFile, opts: { materials?: string[]; products?: string[]; command?: string[] }): void {
  const args = ['-n', name, '-k', key.path, '-t', key.type];
  if (opts.materials?.length) args.push('-m', ...opts.materials);
  if (opts.products?.length) args.push('-p', ...opts.products);
  args.push(...(opts.command?.length ? ['--', ...opts.command] : ['-x']));
  const result = runReference('in-toto-run', args, cwd);
  if (result.status !== 0) throw new Error(`in-toto-run ${args.join(' ')} failed: ${result.stderr}`);
}

/** Runs the reference verifier; returns its exit code and what it said. */
export function referenceVerify(cwd: string, layout: string, keys: KeyFile[], linkDir?: string): { status: number; output: string } {
  const args = ['--layout', layout, '--layout-keys', ...keys.map((k) => `${k.path}.pub`), '--key-types', ...keys.map((k) => k.type)];
  if (linkDir) args.push('--link-dir', linkDir);
  const result = runReference('in-toto-verify', args, cwd);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

export function write(dir: string, file: string, content: string | Uint8Array): void {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), content);
}

export function copyInto(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}
