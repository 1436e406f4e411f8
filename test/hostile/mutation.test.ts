/**
 * Mutation test: valid signed supply chains (ed25519, RSA-PSS, ECDSA P-256/P-384 keys; Metablock, DSSE and
 * mixed envelopes; a threshold-2 step; a sublayout) are mutated one file at a time (bytes flipped, inserted
 * and deleted; JSON fields deleted, added, renamed, swapped and respelled; duplicate keys; signatures
 * duplicated, forged, replayed; DSSE payloads and payload types changed; whole files replayed) and verified.
 *
 * What must hold for every mutant:
 *  - verify() returns a verdict (never throws, never hangs); every failure has a known `code` and a message;
 *  - a mutant that PASSES still means exactly what was signed: read as an envelope it is of the same kind,
 *    its signed bytes (a Metablock's canonical `signed`, a DSSE envelope's PAE(payloadType, payload)) are
 *    byte-identical to the original's, its signed value is deep-equal, and the verdict (summary, trace,
 *    warnings) is the original's. Only unsigned parts may differ: whitespace, key order, escapes, base64
 *    alphabet, an extra or respelled signature entry. Anything else that passes is a false PASS.
 *  - readEnvelope() on the mutant returns or throws an InTotoError with a known code;
 *  - after every batch the engine still canonicalizes a known document to the known bytes, still applies
 *    rules, and its memory has not run away.
 * A share of mutants are re-signed by the file's own key (what a holder of that key could send): those may
 * pass with another meaning, but must still give typed failures, and a consistent trace.
 *
 * Default: 10,020 mutants (about 30 s here). More: HOSTILE_MUTANTS=200000 npx vitest run test/hostile/mutation.test.ts
 * Replay one: HOSTILE_SEED=<seed> HOSTILE_ONLY=<index> (both printed with any problem).
 */
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDsse, createMetablock, readEnvelope, serializeEnvelope, signEnvelope } from '../../bindings/metadata/envelope.js';
import { getEngine, initEngine } from '../../bindings/engine.js';
import { evaluateRules } from '../../bindings/verify/rule-engine.js';
import { parseRule } from '../../bindings/metadata/rules.js';
import { verify, type Verdict } from '../../bindings/verify/verify.js';
import {
  chainFiles, chainOptions, equalBytes, fromUtf8, isTypedError, makeChains, makeKeys, mutantSeed, Rng, untypedFailures, utf8,
  type Chain,
} from './chains.js';
import { mutate, resignableEdit, type Mutant } from './mutate.js';

const TOTAL = Number(process.env.HOSTILE_MUTANTS ?? 10_020);
const SEED = Number(process.env.HOSTILE_SEED ?? 20261207);
const ONLY = process.env.HOSTILE_ONLY === undefined ? undefined : Number(process.env.HOSTILE_ONLY);
const BATCH = 500;
/** Share of mutants re-signed by the file's own key. */
const RESIGNED = 0.06;
/** A mutant's verification taking longer than this is reported as a hang (it takes milliseconds). */
const HANG_MS = 20_000;

const KNOWN_DOC = '{"b":[1,{"d":"\\u00e9\\ud83d\\ude00","c":null}],"a":-0,"":"\\"\\\\"}';
const KNOWN_CANONICAL = '{"":"\\"\\\\","a":0,"b":[1,{"c":null,"d":"é😀"}]}';

let chains: Chain[];
/** Signed bytes of every genuine file, by signer key id: a mutant may be another statement its key really made. */
const genuine = new Map<string, Uint8Array[]>();

interface Stats {
  mutants: number;
  passed: number;
  resigned: number;
  resignedPassed: number;
  byOperator: Map<string, { n: number; passed: number }>;
  codes: Map<string, number>;
  slowestMs: number;
  problems: string[];
}

/**
 * Why a passing mutant does not mean what the original meant, or undefined when it does. `signer` is the key id
 * the file must be signed with: a file its key genuinely signed elsewhere (the same link in another chain, in
 * the other envelope kind) is a replay of a true statement, not a forgery, and only has to give a consistent
 * verdict.
 */
function meaningDiffers(original: Uint8Array, mutant: Uint8Array, base: Verdict, verdict: Verdict, signer?: string): string | undefined {
  let a;
  let b;
  try {
    a = readEnvelope(original);
    b = readEnvelope(mutant);
  } catch (error) {
    return `it passed verify() but readEnvelope refuses it: ${(error as Error).message}`;
  }
  if (signer !== undefined && !equalBytes(a.signedBytes, b.signedBytes)) {
    if ((genuine.get(signer) ?? []).some((bytes) => equalBytes(bytes, b.signedBytes))) return traceInconsistent(verdict);
    return `its signed bytes are neither the original's nor any its key ${signer.slice(0, 8)} signed`;
  }
  if (a.kind !== b.kind) return `envelope kind ${a.kind} became ${b.kind}`;
  if (!equalBytes(a.signedBytes, b.signedBytes)) return 'signed bytes differ from what was signed';
  // -0 and 0 are one integer in canonical JSON (and in python); JSON.parse keeps the sign, === ignores it.
  if (!isDeepStrictEqual(zeroes(a.signed), zeroes(b.signed))) return 'the signed value (as JSON.parse reads it) differs';
  if (a.kind === 'dsse' && b.kind === 'dsse' && (a.payloadType !== b.payloadType || !equalBytes(a.payload, b.payload))) return 'DSSE payload or type differs';
  if (!isDeepStrictEqual(verdict.summary, base.summary)) return 'the summary differs';
  if (!isDeepStrictEqual(verdict.trace, base.trace)) return 'the rule trace differs';
  if (!isDeepStrictEqual(verdict.warnings, base.warnings)) return 'the warnings differ';
  return undefined;
}

function zeroes(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(zeroes);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, zeroes(v)]));
  return value;
}

/** Each artifact leaves each queue at most once: the trace of a passing verdict never double-counts. */
function traceInconsistent(verdict: Verdict): string | undefined {
  const seen = new Map<string, Set<string>>();
  for (const entry of verdict.trace) {
    const key = `${entry.layout.join('>')}|${entry.item}|${entry.side}`;
    const set = seen.get(key) ?? new Set<string>();
    for (const path of entry.consumed) {
      if (set.has(path)) return `${key}: ${JSON.stringify(path)} consumed twice`;
      set.add(path);
    }
    seen.set(key, set);
  }
  return undefined;
}

async function withDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no verdict after ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function makeMutant(r: Rng, chain: Chain, file: string, original: Uint8Array, others: Uint8Array[]): Promise<Mutant & { resigned: boolean }> {
  const signer = chain.signers.get(file)!;
  if (r.chance(RESIGNED)) {
    const signed = readEnvelope(original).signed;
    const { operator, signed: edited } = resignableEdit(r, signed as never);
    try {
      const obj = edited as Record<string, unknown>;
      const envelope = await signEnvelope(signer.dsse ? createDsse(obj) : createMetablock(obj), signer.key);
      return { operator, bytes: serializeEnvelope(envelope), resigned: true };
    } catch (error) {
      // An edit our own writers refuse to sign (e.g. not an object any more): nothing to verify.
      if (!isTypedError(error) && !(error instanceof TypeError)) throw error;
      return { operator: `${operator}(unsignable)`, bytes: original, resigned: true };
    }
  }
  return { ...mutate(r, original, { others }), resigned: false };
}

function checkEngine(stats: Stats, at: string): void {
  const engine = getEngine();
  try {
    const out = fromUtf8(engine.canonicalize(KNOWN_DOC));
    if (out !== KNOWN_CANONICAL) stats.problems.push(`${at}: the engine canonicalizes the known document to ${out}`);
    const rule = (tokens: string[]) => parseRule(tokens, { field: 'r' });
    const result = evaluateRules(
      [{ name: 'a', materials: [rule(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'a']), rule(['DISALLOW', '*'])], products: [] }],
      [{ name: 'a', bytes: utf8.encode('{"signed":{"materials":{"x":{"sha256":"ab"}},"products":{"x":{"sha256":"ab"}}}}') }],
    );
    if (!result.passed) stats.problems.push(`${at}: the rule engine no longer passes a trivial program`);
  } catch (error) {
    stats.problems.push(`${at}: the engine is unusable: ${(error as Error).message}`);
  }
  // The engine reuses its buffers: a few small chains must not grow it past a few MiB.
  if (engine.memoryBytes > 64 << 20) stats.problems.push(`${at}: engine memory grew to ${engine.memoryBytes} bytes`);
}

async function run(chain: Chain, from: number, count: number): Promise<Stats> {
  const stats: Stats = { mutants: 0, passed: 0, resigned: 0, resignedPassed: 0, byOperator: new Map(), codes: new Map(), slowestMs: 0, problems: [] };
  const files = chainFiles(chain);
  const all = chains.flatMap((c) => [c.layout, ...c.links.values()]);
  for (let i = from; i < from + count; i++) {
    if (ONLY !== undefined && i !== ONLY) continue;
    const r = new Rng(mutantSeed(SEED, i));
    const file = r.chance(0.3) ? files[0]! : r.pick(files);
    const original = file === files[0] ? chain.layout : chain.links.get(file)!;
    const mutant = await makeMutant(r, chain, file, original, all.filter((b) => b !== original));
    const tag = `mutant ${i} (HOSTILE_SEED=${SEED} HOSTILE_ONLY=${i}) of ${chain.name}, ${file}, ${mutant.operator}`;
    stats.mutants++;
    if (mutant.resigned) stats.resigned++;
    const op = stats.byOperator.get(mutant.operator) ?? { n: 0, passed: 0 };
    op.n++;
    stats.byOperator.set(mutant.operator, op);

    // readEnvelope alone: a value, or a typed error.
    try {
      readEnvelope(mutant.bytes);
    } catch (error) {
      if (!isTypedError(error)) stats.problems.push(`${tag}: readEnvelope threw ${String(error)}`);
    }

    const started = performance.now();
    let verdict: Verdict;
    try {
      verdict = await withDeadline(verify(chainOptions(chain, file, mutant.bytes)));
    } catch (error) {
      stats.problems.push(`${tag}: verify() threw ${(error as Error)?.stack ?? String(error)}`);
      continue;
    }
    stats.slowestMs = Math.max(stats.slowestMs, performance.now() - started);
    for (const p of untypedFailures(verdict)) stats.problems.push(`${tag}: ${p}`);
    for (const f of verdict.failures) {
      stats.codes.set(f.code, (stats.codes.get(f.code) ?? 0) + 1);
      // A trap inside the engine is an engine bug, whatever the input.
      if (f.code === 'ENGINE') stats.problems.push(`${tag}: the engine trapped: ${f.message}`);
    }
    if (verdict.passed) {
      op.passed++;
      if (mutant.resigned) {
        stats.resignedPassed++;
        const why = traceInconsistent(verdict);
        if (why) stats.problems.push(`${tag}: ${why}`);
      } else {
        stats.passed++;
        const why = meaningDiffers(original, mutant.bytes, chain.verdict, verdict, chain.signers.get(file)!.key.keyid);
        if (why) stats.problems.push(`${tag}: FALSE PASS: ${why}\n${fromUtf8(mutant.bytes).slice(0, 4000)}`);
      }
    }
    if ((i - from + 1) % BATCH === 0) checkEngine(stats, `after ${tag}`);
  }
  checkEngine(stats, `end of ${chain.name}`);
  return stats;
}

function report(chain: Chain, stats: Stats, ms: number): void {
  const ops = [...stats.byOperator].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k} ${v.passed}/${v.n}`);
  const codes = [...stats.codes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`);
  console.log(
    `[mutation] ${chain.name}: ${stats.mutants} mutants in ${(ms / 1000).toFixed(1)} s (slowest ${stats.slowestMs.toFixed(0)} ms); ` +
      `${stats.passed} passed with their meaning intact, ${stats.resigned} re-signed (${stats.resignedPassed} passed)\n` +
      `  passed/total by operator: ${ops.join(', ')}\n  failure codes: ${codes.join(' ')}`,
  );
}

describe('mutants of valid signed chains', () => {
  beforeAll(async () => {
    await initEngine();
    chains = await makeChains(await makeKeys());
    for (const chain of chains) {
      for (const file of chainFiles(chain)) {
        const keyid = chain.signers.get(file)!.key.keyid;
        const bytes = readEnvelope(file === 'layout' ? chain.layout : chain.links.get(file)!).signedBytes;
        genuine.set(keyid, [...(genuine.get(keyid) ?? []), bytes]);
      }
    }
  }, 120_000);

  it('the chains verify unmutated, and spellings that keep the meaning still pass', async () => {
    const r = new Rng(SEED);
    for (const chain of chains) {
      expect(chain.verdict.passed).toBe(true);
      expect(chain.verdict.summary).toBeDefined();
    }
    expect(chains.flatMap((c) => chainFiles(c)).length).toBe(19);
    // Sanity of the oracle: whitespace, key order and escapes in a Metablock, and the envelope of a DSSE
    // file, are not signed; the verdict must not change.
    const { spell } = await import('./mutate.js');
    for (const chain of chains) {
      for (const file of chainFiles(chain)) {
        const original = file === 'layout' ? chain.layout : chain.links.get(file)!;
        const respelled = utf8.encode(spell(r, JSON.parse(fromUtf8(original))));
        const verdict = await verify(chainOptions(chain, file, respelled));
        expect(verdict.failures, `${chain.name} ${file}`).toEqual([]);
        expect(meaningDiffers(original, respelled, chain.verdict, verdict)).toBeUndefined();
      }
    }
  });

  const per = Math.ceil(TOTAL / 3);
  for (const index of [0, 1, 2]) {
    it(`chain ${index}: ${per} mutants, no false PASS, no crash, typed failures, a usable engine`, async () => {
      const chain = chains[index]!;
      const started = performance.now();
      const stats = await run(chain, index * per, per);
      report(chain, stats, performance.now() - started);
      expect(stats.problems.slice(0, 10)).toEqual([]);
      if (ONLY === undefined) {
        // The run must exercise both sides of the oracle: many rejections, and some acceptances.
        expect(stats.passed).toBeGreaterThan(per / 50);
        expect(stats.mutants - stats.passed - stats.resignedPassed).toBeGreaterThan(per / 2);
      }
    }, Math.max(120_000, per * 20));
  }
});
