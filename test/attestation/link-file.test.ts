/**
 * The engine reads a link attestation (a DSSE envelope whose Statement has a link v0.3 predicate) in one call;
 * bindings/attestation/ reads the same envelope in JavaScript and is the authority. For seeded envelopes, valid
 * and broken in every field the fast path looks at, both paths of `readLinkFile` must give the same verdict:
 * both refuse, or both read the same envelope (signed bytes, payload, signatures, the signed link) and the same
 * artifact tables. And the fast path must really be taken for the valid ones (else this would compare nothing).
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPTED_ALGORITHMS } from '../../bindings/attestation/statement.js';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { FROM_STATEMENT, type Envelope } from '../../bindings/metadata/envelope.js';
import { readLinkFile } from '../../bindings/verify/link-file.js';
import { RuleEngine } from '../../bindings/verify/rule-engine.js';
import { seededRandom as random } from '../helpers/random.js';

const CASES = Number(process.env.LINK_FILE_CASES ?? 4000);


const hex = (r: () => number, n: number, alphabet = '0123456789abcdef') => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');

/** A JSON text for `value`, spelled one of several equivalent ways (escapes, whitespace). */
function spell(r: () => number, value: unknown): string {
  if (typeof value === 'string') {
    const plain = JSON.stringify(value);
    if (r() < 0.1) return plain.replace(/[a-z/]/, (c) => (c === '/' ? '\\/' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    return plain;
  }
  if (Array.isArray(value)) return `[${value.map((v) => spell(r, v)).join(r() < 0.1 ? ' , ' : ',')}]`;
  if (value && typeof value === 'object') {
    if ('__raw' in value) return (value as { __raw: string }).__raw;
    const entries = Object.entries(value);
    if (r() < 0.3) entries.reverse();
    return `{${entries.map(([k, v]) => `${spell(r, k)}:${spell(r, v)}`).join(r() < 0.1 ? ',\n ' : ',')}}`;
  }
  return JSON.stringify(value);
}

const ALGORITHMS = ['sha256', 'sha512', 'sha384', 'sha224', 'sha512_224', 'sha512_256', 'sha3_256', 'sha3_512', 'dirHash', 'gitCommit', 'gitTree', 'gitBlob', 'gitTag', 'md5', 'sha1', 'blake3', 'SHA256', '__proto__'];
const LENGTHS: Record<string, number[]> = { sha256: [64], sha512: [128], sha384: [96], sha224: [56], sha512_224: [56], sha512_256: [64], sha3_256: [64], sha3_512: [128], dirHash: [64], gitCommit: [40, 64], gitTree: [40, 64], gitBlob: [40, 64], gitTag: [40, 64], md5: [32], sha1: [40] };

function digestSet(r: () => number, broken: boolean): unknown {
  const out: Record<string, unknown> = {};
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const alg = i === 0 && r() < 0.7 ? 'sha256' : ALGORITHMS[Math.floor(r() * ALGORITHMS.length)]!;
    const lengths = LENGTHS[alg] ?? [64];
    let value: unknown = hex(r, lengths[Math.floor(r() * lengths.length)]!);
    if (broken) {
      const k = r();
      if (k < 0.2) value = (value as string).toUpperCase();
      else if (k < 0.4) value = (value as string).slice(1);
      else if (k < 0.5) value = 42;
      else if (k < 0.6) value = `${(value as string).slice(1)}g`;
      else if (k < 0.7) value = '';
    }
    out[alg] = value;
  }
  if (broken && r() < 0.1) return r() < 0.5 ? {} : [out];
  return out;
}

function descriptor(r: () => number, name: string, broken: boolean): unknown {
  const rd: Record<string, unknown> = {};
  if (!(broken && r() < 0.15)) rd.name = broken && r() < 0.1 ? (r() < 0.5 ? '' : 7) : name;
  if (!(broken && r() < 0.15)) rd.digest = digestSet(r, broken);
  if (r() < 0.15) rd.uri = broken && r() < 0.3 ? null : `https://example.com/${name}`;
  if (r() < 0.1) rd.mediaType = 'text/plain';
  if (r() < 0.1) rd.downloadLocation = broken && r() < 0.3 ? 3 : 'https://example.com/x';
  if (r() < 0.15) rd.content = broken && r() < 0.5 ? ['aGk=', 'aGk', 'aGl=', 'a===', '!!!!', 'aGk=='][Math.floor(r() * 6)] : ['aGk=', 'aGk', '', 'YQ', 'YWI-', 'YWI_'][Math.floor(r() * 6)];
  if (r() < 0.1) rd.annotations = broken && r() < 0.5 ? 'x' : { k: r() < 0.5 ? 1.5 : 'v' };
  if (r() < 0.1) rd.extra = { anything: [1, 2] };
  return broken && r() < 0.05 ? 'not an object' : rd;
}

function names(r: () => number, n: number, broken: boolean): string[] {
  const out = Array.from({ length: n }, (_, i) => [`src/f${i}.c`, `é/${i}`, `a b/${i}`, `x\n${i}`, `${i}`, `__proto__${i}`][Math.floor(r() * 6)]!);
  if (r() < 0.7) out.sort();
  if (broken && n > 1 && r() < 0.3) out[n - 1] = out[0]!;
  return out;
}

/** One envelope's bytes: broken in some field with probability `p` per decision. */
function envelope(r: () => number): { bytes: Uint8Array; valid: boolean } {
  const broken = r() < 0.6;
  const b = () => broken && r() < 0.25;
  const statement: Record<string, unknown> = {};
  const type = b() ? ['https://in-toto.io/Statement/v2', 'link', ''][Math.floor(r() * 3)] : r() < 0.8 ? 'https://in-toto.io/Statement/v1' : 'https://in-toto.io/Statement/v0.1';
  if (!b()) statement._type = type;
  const nSubjects = b() ? 0 : 1 + Math.floor(r() * 5);
  if (!b()) statement.subject = names(r, nSubjects, broken).map((n) => descriptor(r, n, broken));
  statement.predicateType = b() ? ['https://slsa.dev/provenance/v1', '', 5][Math.floor(r() * 3)] : 'https://in-toto.io/attestation/link/v0.3';
  const predicate: Record<string, unknown> = {};
  if (!b()) predicate.name = b() ? '' : 'build';
  if (r() < 0.8) predicate.command = b() ? 'make' : ['make', 'all'];
  if (r() < 0.8) predicate.materials = b() ? { 'a.c': {} } : names(r, Math.floor(r() * 4), broken).map((n) => descriptor(r, n, broken));
  if (r() < 0.6) predicate.byproducts = b() ? [] : { 'return-value': 0, stdout: 'ok', ratio: { __raw: '0.1000000000000000055511151231257827' } };
  if (r() < 0.5) predicate.environment = { workdir: '/tmp' };
  if (!b()) statement.predicate = b() ? [predicate] : predicate;
  if (r() < 0.1) statement.unknownField = { __raw: '1e400' };
  let payloadText = spell(r, statement);
  if (broken && r() < 0.05) payloadText = payloadText.replace('"subject"', '"subject":[],"subject"');
  if (broken && r() < 0.05) payloadText = payloadText.slice(0, -1);
  let payload = Buffer.from(payloadText).toString('base64');
  const k = r();
  if (k < 0.2) payload = payload.replace(/=+$/, '');
  else if (k < 0.3) payload = payload.replace(/\+/g, '-').replace(/\//g, '_');
  else if (broken && k < 0.35) payload = `${payload.slice(0, -1)}!`;
  else if (broken && k < 0.4 && payload.endsWith('=')) payload = `${payload.slice(0, -2)}${payload.at(-2) === 'A' ? 'B' : 'A'}=`;
  const doc: Record<string, unknown> = {
    payload: r() < 0.1 ? { __raw: JSON.stringify(payload).replace(/\//g, '\\/') } : payload,
    payloadType: b() ? 'application/json' : r() < 0.8 ? 'application/vnd.in-toto+json' : 'application/vnd.in-toto.link+json',
    signatures: b() ? 'none' : [{ keyid: 'abc', sig: 'c2ln' }],
  };
  if (b()) doc.extra = 1;
  return { bytes: Buffer.from(spell(r, doc)), valid: !broken };
}

type Read = { envelope: unknown; materials: unknown; products: unknown } | { error: string };

function readWith(rules: RuleEngine, bytes: Uint8Array, engine: boolean): Read {
  try {
    const { envelope, handle } = readLinkFile(rules, bytes, 1000, { engine });
    const read = { envelope, materials: rules.artifacts(handle, 'materials'), products: rules.artifacts(handle, 'products') };
    rules.free(handle);
    return read;
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    return { error: error.code };
  }
}

let rules: RuleEngine;
beforeAll(async () => {
  await initEngine();
  rules = new RuleEngine();
});
afterAll(() => rules.close());

describe('link attestations: the engine path and the JavaScript path agree', () => {
  it(`${CASES} seeded envelopes: same verdict, same envelope, same artifact tables`, () => {
    const r = random(20261207);
    let fast = 0;
    let validFast = 0;
    let valid = 0;
    let refused = 0;
    let read = 0;
    let readFast = 0;
    const declined: string[] = [];
    const problems: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const made = envelope(r);
      const taken = rules.readEnvelope(made.bytes, 1000);
      if (taken) {
        fast++;
        if (made.valid) validFast++;
        rules.free(taken.handle);
      }
      if (made.valid) valid++;
      const a = readWith(rules, made.bytes, true);
      const b = readWith(rules, made.bytes, false);
      if ('error' in b) refused++;
      // A payload that is no Statement is read as a classic link document (its schema checked later): only link
      // attestations are the engine's to read.
      else if ((b.envelope as Envelope).signed[FROM_STATEMENT as unknown as string]) {
        read++;
        if (taken) readFast++;
        else if (declined.length < 3) declined.push(Buffer.from(made.bytes).toString());
      }
      if (!isDeepStrictEqual(a, b)) {
        problems.push(`case ${i}: engine ${JSON.stringify('error' in a ? a : 'read')} vs JavaScript ${JSON.stringify('error' in b ? b : 'read')}\n${Buffer.from(made.bytes).toString()}`);
        if (problems.length > 5) break;
      }
    }
    expect(problems).toEqual([]);
    // Every envelope the JavaScript path reads, the engine reads too (declining one would only cost time, but
    // would also mean this test compares less than it says); and both outcomes are well exercised.
    expect(declined).toEqual([]);
    expect(readFast).toBe(read);
    expect(validFast).toBeGreaterThan(CASES / 5);
    expect(read).toBeGreaterThan(CASES / 4);
    expect(refused).toBeGreaterThan(CASES / 4);
  });

  it('the engine keeps exactly the algorithms ACCEPTED_ALGORITHMS names (md5, sha1 and unknown ones dropped)', () => {
    const algorithms = [...ACCEPTED_ALGORITHMS, 'md5', 'sha1', 'blake3', 'sha256x'];
    const lengths: Record<string, number> = { sha224: 56, sha512_224: 56, sha3_224: 56, sha384: 96, sha3_384: 96, sha512: 128, sha3_512: 128, md5: 32, sha1: 40, gitBlob: 40, gitCommit: 40, gitTag: 40, gitTree: 40 };
    const digest = Object.fromEntries(algorithms.map((alg) => [alg, 'a'.repeat(lengths[alg] ?? 64)]));
    const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'app', digest }], predicateType: 'https://in-toto.io/attestation/link/v0.3', predicate: { name: 'build' } };
    const bytes = Buffer.from(JSON.stringify({ payload: Buffer.from(JSON.stringify(statement)).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [] }));
    const taken = rules.readEnvelope(bytes, 10);
    expect(taken?.kind).toBe('dsse');
    const kept = rules.artifacts(taken!.handle, 'products').app!;
    rules.free(taken!.handle);
    expect(Object.keys(kept).sort()).toEqual([...ACCEPTED_ALGORITHMS].sort());
  });

  it('declines a Statement with more subjects than maxArtifacts, which the general path then refuses (LIMIT)', () => {
    const subject = Array.from({ length: 3 }, (_, i) => ({ name: `f${i}`, digest: { sha256: 'b'.repeat(64) } }));
    const statement = { _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://in-toto.io/attestation/link/v0.3', predicate: { name: 'build' } };
    const bytes = Buffer.from(JSON.stringify({ payload: Buffer.from(JSON.stringify(statement)).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [] }));
    expect(rules.readEnvelope(bytes, 2)).toBeUndefined();
    expect(() => readLinkFile(rules, bytes, 2)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    const read = readLinkFile(rules, bytes, 3);
    expect(Object.keys(rules.artifacts(read.handle, 'products'))).toEqual(['f0', 'f1', 'f2']);
    rules.free(read.handle);
  });
});

describe('link attestations: what the general path used to misread (found by the differential test)', () => {
  const envelopeOf = (payload: string, payloadType = 'application/vnd.in-toto+json') =>
    Buffer.from(JSON.stringify({ payload: Buffer.from(payload).toString('base64'), payloadType, signatures: [] }));
  const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${'a'.repeat(64)}"}}],"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"build","byproducts":{"ratio":0.5}}}`;

  it('a Statement whose _type is spelled with escapes is a Statement on both paths (it was read as a classic link document)', () => {
    const escaped = statement.replace('"https://in-toto.io/Statement/v1"', '"https:\\/\\/in-toto.io\\/Statement\\/v1"').replace('"_type"', '"_\\u0074ype"');
    for (const engine of [true, false]) {
      const read = readLinkFile(rules, envelopeOf(escaped), 10, { engine });
      expect(read.envelope.signed._type).toBe('link');
      expect(Object.keys(rules.artifacts(read.handle, 'products'))).toEqual(['app']);
      rules.free(read.handle);
    }
  });

  it('a link attestation under the predicate-naming payload type reads on both paths (it was refused as "not a Statement")', () => {
    for (const engine of [true, false]) {
      const read = readLinkFile(rules, envelopeOf(statement, 'application/vnd.in-toto.link+json'), 10, { engine });
      expect(read.envelope.kind === 'dsse' && read.envelope.payloadType).toBe('application/vnd.in-toto.link+json');
      rules.free(read.handle);
    }
    // A classic link under it is still refused.
    const classic = `{"_type":"link","name":"build","command":[],"materials":{},"products":{},"byproducts":{},"environment":{}}`;
    expect(() => readLinkFile(rules, envelopeOf(classic, 'application/vnd.in-toto.link+json'), 10)).toThrow(/names a predicate, but the payload is not a Statement/);
  });
});

describe('link attestations share artifact tables with every side that records exactly the same artifacts', () => {
  const a64 = 'a'.repeat(64);
  const b64 = 'b'.repeat(64);
  type Descriptor = { name: string; digest: Record<string, string> };
  const base: Descriptor[] = [
    { name: 'src/a.c', digest: { sha256: a64 } },
    { name: 'src/b.c', digest: { sha256: b64 } },
    { name: 'z/é', digest: { sha256: a64, sha512: 'c'.repeat(128) } },
  ];
  const envelopeOf = (subject: Descriptor[], materials: Descriptor[] = []) => {
    const statement = { _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://in-toto.io/attestation/link/v0.3', predicate: { name: 'build', materials } };
    return Buffer.from(JSON.stringify({ payload: Buffer.from(JSON.stringify(statement)).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [] }));
  };
  const artifactsOf = (list: Descriptor[]) => Object.fromEntries(list.map((d) => [d.name, d.digest]));
  const read = (bytes: Uint8Array) => {
    const taken = rules.readEnvelope(bytes, 1000);
    expect(taken?.kind).toBe('dsse');
    return { handle: taken!.handle, probes: rules.lastCounts.probes };
  };
  const replace = (at: number, d: Descriptor) => base.map((x, i) => (i === at ? d : x));
  // Each differs from `base` in one descriptor, by as little as possible: none may be taken for `base`.
  const nearMisses: Record<string, Descriptor[]> = {
    'one name byte': replace(0, { name: 'src/a.d', digest: { sha256: a64 } }),
    'a name one byte longer': replace(0, { name: 'src/a.cc', digest: { sha256: a64 } }),
    'one digest digit': replace(0, { name: 'src/a.c', digest: { sha256: `${'a'.repeat(63)}b` } }),
    'the same hex under another algorithm': replace(0, { name: 'src/a.c', digest: { sha512_256: a64 } }),
    'a second accepted algorithm': replace(0, { name: 'src/a.c', digest: { sha256: a64, sha512: 'd'.repeat(128) } }),
    'an algorithm fewer': replace(2, { name: 'z/é', digest: { sha256: a64 } }),
    'the digests of two names swapped': [{ name: 'src/a.c', digest: { sha256: b64 } }, { name: 'src/b.c', digest: { sha256: a64 } }, base[2]!],
    'one descriptor more': [...base, { name: 'src/c.c', digest: { sha256: a64 } }],
    'one descriptor fewer': base.slice(1),
    'NFD for NFC': replace(2, { name: 'z/e\u0301', digest: base[2]!.digest }),
  };

  it('a second Statement with the same subjects and materials builds no table (no index inserts), in any order of descriptors', () => {
    const first = read(envelopeOf(base, base));
    expect(first.probes).toBeGreaterThanOrEqual(3); // one table for both sides, indexed once
    const second = read(envelopeOf([...base].reverse(), [base[1]!, base[2]!, base[0]!]));
    expect(second.probes).toBe(0);
    expect(rules.artifacts(second.handle, 'products')).toEqual(artifactsOf(base));
    expect(rules.artifacts(second.handle, 'materials')).toEqual(artifactsOf(base));
    expect(rules.equal(first.handle, second.handle)).toBe(true);
    // Dropped algorithms are not part of the table: a digest that also names md5 records the same artifacts.
    const withMd5 = read(envelopeOf(base.map((d) => ({ ...d, digest: { ...d.digest, md5: 'e'.repeat(32) } }))));
    expect(withMd5.probes).toBe(0);
    for (const h of [first, second, withMd5]) rules.free(h.handle);
  });

  it('a classic link and a link attestation recording the same artifacts share one table, both ways', () => {
    const classic = (artifacts: Record<string, Record<string, string>>) =>
      Buffer.from(JSON.stringify({ signatures: [], signed: { _type: 'link', name: 'x', command: [], materials: artifacts, products: {}, byproducts: {}, environment: {} } }));
    const sha256Only = base.slice(0, 2);
    const fromStatement = read(envelopeOf(sha256Only));
    const fromMetablock = rules.readEnvelope(classic(artifactsOf(sha256Only)), 1000)!;
    expect(rules.lastCounts.probes).toBe(0);
    expect(rules.artifacts(fromMetablock.handle, 'materials')).toEqual(artifactsOf(sha256Only));
    rules.free(fromStatement.handle);
    // The table outlives the Statement that built it, and a new Statement finds it again.
    const again = read(envelopeOf([{ name: 'app', digest: { sha256: b64 } }], sha256Only));
    expect(again.probes).toBe(1); // the one subject's index insert; none for the materials
    expect(rules.artifacts(again.handle, 'products')).toEqual({ app: { sha256: b64 } });
    expect(rules.artifacts(again.handle, 'materials')).toEqual(artifactsOf(sha256Only));
    for (const h of [fromMetablock.handle, again.handle]) rules.free(h);
  });

  for (const [name, other] of Object.entries(nearMisses)) {
    it(`never shares a table that differs by ${name}`, () => {
      // Both orders, next to each other, on both sides.
      const a = read(envelopeOf(other, base));
      const b = read(envelopeOf(base, other));
      const c = read(envelopeOf(base, base));
      expect(rules.artifacts(a.handle, 'products')).toEqual(artifactsOf(other));
      expect(rules.artifacts(a.handle, 'materials')).toEqual(artifactsOf(base));
      expect(rules.artifacts(b.handle, 'products')).toEqual(artifactsOf(base));
      expect(rules.artifacts(b.handle, 'materials')).toEqual(artifactsOf(other));
      expect(rules.equal(a.handle, c.handle)).toBe(false);
      expect(rules.equal(b.handle, c.handle)).toBe(false);
      expect(rules.equal(a.handle, b.handle)).toBe(false);
      for (const h of [a, b, c]) rules.free(h.handle);
    });
  }
});
