/**
 * A differential test against `@sigstore/verify` (sigstore-js, a devDependency used as an oracle only): over every
 * sigstore-conformance bundle (IN_TOTO_SIGSTORE_VECTORS) and one-bit mutants of the verified ones, both verifiers must
 * give the same verdict, or the difference must be one of the documented ones below (where we are right and it is
 * lax, by the spec or the conformance suite).
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { loadPublicKey } from '../../bindings/keys/keys.js';
import { readSigstoreBundle } from '../../bindings/sigstore/bundle.js';
import { readTrustedRoot } from '../../bindings/sigstore/trusted-root.js';
import { verifySigstoreBundle } from '../../bindings/sigstore/verify-bundle.js';

const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const PRODUCTION_ROOT = fileURLToPath(new URL('../../data/sigstore/production-trusted-root.json', import.meta.url));

/** Cases where @sigstore/verify 4.1.3 gives another verdict, and why ours is the right one. */
const KNOWN: Record<string, string> = {
  // The suite: a trusted root whose log key has no validFor.start must be refused; sigstore-js reads it as valid
  // from the beginning of time.
  'trust-root-tlog-missing-validity-start_fail': 'sigstore-js accepts a log key without validFor.start',
};

interface Case {
  readonly name: string;
  readonly bundle: string;
  readonly root: string;
  readonly key?: string;
  readonly artifact: Buffer;
  readonly identity: string;
  readonly issuer: string;
}

let cases: Case[];
beforeAll(async () => {
  await initEngine();
  const dir = process.env.IN_TOTO_SIGSTORE_VECTORS;
  if (!dir) throw new Error('set IN_TOTO_SIGSTORE_VECTORS to the sigstore-conformance folder');
  const base = join(resolve(dir), 'test/assets/bundle-verify');
  const at = (d: string, f: string) => (existsSync(join(d, f)) ? join(d, f) : undefined);
  cases = readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map(({ name }) => {
      const d = join(base, name);
      return {
        name,
        bundle: readFileSync(join(d, 'bundle.sigstore.json'), 'utf8'),
        root: readFileSync(at(d, 'trusted_root.json') ?? PRODUCTION_ROOT, 'utf8'),
        ...(at(d, 'key.pub') ? { key: readFileSync(join(d, 'key.pub'), 'utf8') } : {}),
        artifact: readFileSync(at(d, 'artifact') ?? join(base, 'a.txt')),
        identity: at(d, 'identity') ? readFileSync(join(d, 'identity'), 'utf8').trim() : IDENTITY,
        issuer: at(d, 'issuer') ? readFileSync(join(d, 'issuer'), 'utf8').trim() : ISSUER,
      };
    });
});

async function ours(c: Case, bundle: string): Promise<'pass' | 'fail'> {
  try {
    const policy = c.key ? { key: loadPublicKey(c.key) } : { identity: { san: c.identity, issuer: c.issuer } };
    await verifySigstoreBundle(readSigstoreBundle(bundle), readTrustedRoot(c.root), { bytes: new Uint8Array(c.artifact) }, policy);
    return 'pass';
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    return 'fail';
  }
}

function theirs(c: Case, bundle: string): 'pass' | 'fail' {
  try {
    const keys = c.key ? () => ({ publicKey: createPublicKey(c.key!), validFor: () => true }) : undefined;
    const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(c.root)), keys);
    const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: c.key ? 0 : 1, timestampThreshold: 1 });
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(bundle)), c.artifact), c.key ? undefined : { subjectAlternativeName: c.identity, extensions: { issuer: c.issuer } });
    return 'pass';
  } catch {
    return 'fail';
  }
}

describe('against @sigstore/verify (IN_TOTO_SIGSTORE_VECTORS)', () => {
  it('every conformance case: the same verdict, or a documented difference where ours is the suite\'s', async () => {
    const differences: string[] = [];
    for (const c of cases) {
      const [a, b] = [await ours(c, c.bundle), theirs(c, c.bundle)];
      if (a !== b && !KNOWN[c.name]) differences.push(`${c.name}: ours ${a}, @sigstore/verify ${b}`);
      if (KNOWN[c.name]) expect(a, c.name).toBe(c.name.endsWith('fail') ? 'fail' : 'pass');
    }
    expect(differences).toEqual([]);
  });

  it('one-bit mutants of every bundle both verify: never accepted by us and refused by @sigstore/verify', async () => {
    const weaker: string[] = [];
    let tried = 0;
    for (const c of cases.filter((k) => !k.name.endsWith('fail'))) {
      const doc = JSON.parse(c.bundle);
      const paths: (string | number)[][] = [];
      const walk = (v: unknown, path: (string | number)[]) => {
        if (typeof v === 'string' && /^[A-Za-z0-9+/]{16,}={0,2}$/.test(v) && path[path.length - 1] !== 'hint') paths.push(path);
        else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
        else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, [...path, k]));
      };
      walk(doc, []);
      for (const path of paths) {
        const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, doc);
        const original = parent[path[path.length - 1]!] as string;
        const bytes = Buffer.from(original, 'base64');
        for (const at of [0, bytes.length >> 1, bytes.length - 1]) {
          const flipped = Buffer.from(bytes);
          flipped[at]! ^= 0x01;
          parent[path[path.length - 1]!] = flipped.toString('base64');
          const text = JSON.stringify(doc);
          parent[path[path.length - 1]!] = original;
          tried++;
          const [a, b] = [await ours(c, text), theirs(c, text)];
          if (a === 'pass' && b === 'fail') weaker.push(`${c.name}: ${path.join('.')} byte ${at}`);
        }
      }
    }
    // Where we accept and it refuses, we would be the lax one: none.
    expect(weaker).toEqual([]);
    expect(tried).toBeGreaterThan(1000);
  }, 600_000);
});
