/**
 * Valid signed supply chains for the hostile suites, made with the library itself: every key type (ed25519,
 * RSA-PSS, ECDSA P-256 and P-384), Metablock and DSSE envelopes, a threshold-2 step and a sublayout. Each
 * chain verifies; the suites then attack its bytes.
 */
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { InTotoError, type ErrorCode } from '../../bindings/errors.js';
import type { PrivateKey, PublicKey } from '../../bindings/keys/keys.js';
import { linkFileName, sublayoutDirName } from '../../bindings/verify/link-source.js';
import { verify, type Verdict, type VerifyOptions } from '../../bindings/verify/verify.js';
import * as documents from '../helpers/documents.js';
import { signDoc, type StepDef } from '../helpers/documents.js';

export { signDoc, type StepDef };

/** Every code the library may put in a failure or an error (bindings/errors.ts `ErrorCode`). */
export const ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'JSON', 'FORMAT', 'LIMIT', 'IO', 'KEY', 'KEY_PASSWORD', 'KEY_EXPIRED', 'SIGNATURE', 'UNSUPPORTED', 'ENGINE',
  'LAYOUT_EXPIRED', 'THRESHOLD', 'RULE_MATCH', 'RULE_DISALLOW', 'RULE_REQUIRE', 'LINK_MISSING', 'LINKS_DISAGREE', 'INSPECTION',
]);

export const utf8 = new TextEncoder();
export const fromUtf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** mulberry32: small, fast, seedable; every mutant gets its own stream so that one can be replayed alone. */
export class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed of mutant `i` of a run seeded `seed` (a 32-bit mix, so neighbouring mutants are unrelated). */
export function mutantSeed(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface Keys {
  ownerEd: PrivateKey;
  ownerRsa: PrivateKey;
  ownerEc: PrivateKey;
  alice: PrivateKey; // ed25519
  bob: PrivateKey; // rsa
  carol: PrivateKey; // ecdsa P-256
  dave: PrivateKey; // ecdsa P-384
  erin: PrivateKey; // ed25519
}

export async function makeKeys(): Promise<Keys> {
  const [ownerEd, ownerRsa, ownerEc, alice, bob, carol, dave, erin] = await Promise.all([
    generateKeyPair('ed25519'),
    generateKeyPair('rsa', { bits: 2048 }),
    generateKeyPair('ecdsa'),
    generateKeyPair('ed25519'),
    generateKeyPair('rsa', { bits: 2048 }),
    generateKeyPair('ecdsa'),
    generateKeyPair('ecdsa', { scheme: 'ecdsa-sha2-nistp384' }),
    generateKeyPair('ed25519'),
  ]);
  return { ownerEd, ownerRsa, ownerEc, alice, bob, carol, dave, erin };
}

export const digest = (seed: string) => ({ sha256: seed.repeat(64).slice(0, 64) });

/** A layout document (test/helpers/documents.ts) with this suite's readme. */
export function layoutDoc(steps: StepDef[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return documents.layoutDoc(steps, { readme: 'hostile-input test chain', ...extra });
}

/** A link document (test/helpers/documents.ts) with the byproducts of a command that printed `ok`. */
export function linkDoc(name: string, materials: Record<string, object> = {}, products: Record<string, object> = {}, command: string[] = []): Record<string, unknown> {
  return documents.linkDoc(name, materials, products, command, { 'return-value': 0, stderr: '', stdout: 'ok\n' });
}

export interface Chain {
  readonly name: string;
  readonly layout: Uint8Array;
  readonly layoutKeys: readonly PublicKey[];
  readonly links: ReadonlyMap<string, Uint8Array>;
  /** Who signed each file (`layout` for the layout), to re-sign mutants with the right key. */
  readonly signers: ReadonlyMap<string, { key: PrivateKey; dsse: boolean }>;
  /** The verdict of the unmutated chain (it passes). */
  readonly verdict: Verdict;
}

export const LAYOUT = 'layout';

export function chainOptions(chain: Chain, file?: string, bytes?: Uint8Array): VerifyOptions {
  const links = new Map(chain.links);
  let layout = chain.layout;
  if (file !== undefined && bytes !== undefined) {
    if (file === LAYOUT) layout = bytes;
    else links.set(file, bytes);
  }
  return { layout, layoutKeys: chain.layoutKeys, links, now: new Date('2030-06-01T00:00:00Z') };
}

export function chainFiles(chain: Chain): string[] {
  return [LAYOUT, ...chain.links.keys()];
}

/**
 * A four-step chain: fetch -> build -> test (threshold 2: P-256 and P-384 keys) -> package (a sublayout
 * when `sublayout`), every link checked against the one before by MATCH rules, DISALLOW * everywhere.
 */
export async function buildChain(name: string, keys: Keys, owner: PrivateKey, opts: { dsse: (file: string) => boolean; sublayout: boolean }): Promise<Chain> {
  const src = { 'src/app.c': digest('a1'), 'src/ünïcode-é.h': digest('b2'), 'src/both': { sha256: 'c3'.repeat(32), sha512: 'd4'.repeat(64) } };
  const app = { app: digest('e5') };
  const steps: StepDef[] = [
    { name: 'fetch', keys: [keys.alice], products: [['CREATE', 'src/*'], ['DISALLOW', '*']], command: ['git', 'clone', 'https://example.com/app.git'] },
    {
      name: 'build',
      keys: [keys.bob],
      materials: [['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'IN', 'src', 'FROM', 'fetch'], ['DISALLOW', '*']],
      products: [['CREATE', 'app'], ['DISALLOW', '*']],
      command: ['make'],
    },
    {
      name: 'test',
      keys: [keys.carol, keys.dave],
      threshold: 2,
      materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']],
      products: [['ALLOW', 'report.txt'], ['DISALLOW', '*']],
      command: ['make', 'test'],
    },
    {
      name: 'package',
      keys: [keys.erin],
      materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']],
      products: [['CREATE', 'app.tar.gz'], ['DISALLOW', '*']],
    },
  ];
  const files = new Map<string, Uint8Array>();
  const signers = new Map<string, { key: PrivateKey; dsse: boolean }>();
  const add = async (file: string, doc: Record<string, unknown>, key: PrivateKey) => {
    const dsse = opts.dsse(file);
    files.set(file, await signDoc(doc, key, dsse));
    signers.set(file, { key, dsse });
  };
  await add(linkFileName('fetch', keys.alice.keyid), linkDoc('fetch', {}, src, steps[0]!.command), keys.alice);
  await add(linkFileName('build', keys.bob.keyid), linkDoc('build', src, app, ['make']), keys.bob);
  for (const k of [keys.carol, keys.dave]) {
    await add(linkFileName('test', k.keyid), linkDoc('test', app, { 'report.txt': digest('f6') }, ['make', 'test']), k);
  }
  const packaged = { 'app.tar.gz': digest('07') };
  if (opts.sublayout) {
    // erin delegates 'package' to a sublayout of her own, with one step 'pack' done by alice.
    const sub = layoutDoc([{ name: 'pack', keys: [keys.alice], materials: [['ALLOW', 'app']], products: [['CREATE', 'app.tar.gz']] }]);
    await add(linkFileName('package', keys.erin.keyid), sub, keys.erin);
    const dir = sublayoutDirName('package', keys.erin.keyid);
    await add(`${dir}/${linkFileName('pack', keys.alice.keyid)}`, linkDoc('pack', app, packaged, ['tar']), keys.alice);
  } else {
    await add(linkFileName('package', keys.erin.keyid), linkDoc('package', app, packaged, ['tar']), keys.erin);
  }
  const layoutDsse = opts.dsse(LAYOUT);
  const layout = await signDoc(layoutDoc(steps), owner, layoutDsse);
  signers.set(LAYOUT, { key: owner, dsse: layoutDsse });
  const partial = { name, layout, layoutKeys: [owner.publicKey], links: files, signers };
  const verdict = await verify(chainOptions({ ...partial, verdict: undefined as never }));
  if (!verdict.passed) throw new Error(`chain ${name} does not verify: ${JSON.stringify(verdict.failures)}`);
  return { ...partial, verdict };
}

export async function makeChains(keys: Keys): Promise<Chain[]> {
  let flip = 0;
  return Promise.all([
    buildChain('metablock, ed25519 owner', keys, keys.ownerEd, { dsse: () => false, sublayout: false }),
    buildChain('DSSE, RSA owner', keys, keys.ownerRsa, { dsse: () => true, sublayout: false }),
    // Mixed envelopes (every other file DSSE) and a sublayout, under an ECDSA owner.
    buildChain('mixed, ECDSA owner, sublayout', keys, keys.ownerEc, { dsse: (file) => file !== LAYOUT && flip++ % 2 === 0, sublayout: true }),
  ]);
}

/** Checks every failure of a verdict is typed: a known code and a message a person can read. */
export function untypedFailures(verdict: Verdict): string[] {
  const problems: string[] = [];
  for (const f of verdict.failures) {
    if (!ERROR_CODES.has(f.code)) problems.push(`unknown failure code ${JSON.stringify(f.code)}: ${f.message}`);
    if (typeof f.message !== 'string' || f.message.length === 0) problems.push(`failure ${f.code} without a message`);
  }
  if (verdict.passed !== (verdict.failures.length === 0)) problems.push(`passed=${verdict.passed} with ${verdict.failures.length} failures`);
  return problems;
}

/** Whether `error` is the library's typed error with a known code. */
export function isTypedError(error: unknown): error is InTotoError {
  return error instanceof InTotoError && ERROR_CODES.has(error.code) && error.message.length > 0;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
