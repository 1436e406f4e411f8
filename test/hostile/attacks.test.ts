/**
 * Targeted attacks on verification, one test each: on thresholds (a signature or a key counted twice), on
 * who signed what (another step's key, another step's name), on envelopes (DSSE payload types, duplicate
 * keys, surrogate tricks), on the layout's key map, on artifact paths (`..`, absolute, NUL, backslashes,
 * NFC/NFD), on size and depth (nesting 100,000 deep, a link larger than the limit, a million colliding
 * paths), on the link source (a FIFO, a file larger than the limit, a sublayout that loads itself), and on
 * the bytes a loader hands over.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, linkSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../bindings/keys/crypto/index.js';
import { pae } from '../../bindings/encoding.js';
import { canonicalize, createEngine, getEngine, initEngine } from '../../bindings/engine.js';
import { createDsse, readEnvelope, serializeEnvelope, signEnvelope, type DsseEnvelope } from '../../bindings/metadata/envelope.js';
import { keyidCandidates, keyToDict, loadPublicKey } from '../../bindings/keys/keys.js';
import { linkFileName } from '../../bindings/verify/link-source.js';
import { RuleEngine } from '../../bindings/verify/rule-engine.js';
import { parseRule } from '../../bindings/metadata/rules.js';
import { verify, type Verdict, type VerifyOptions } from '../../bindings/verify/verify.js';
import { makeTempDir, runPython } from '../helpers/reference.js';
import { digest, fromUtf8, isTypedError, layoutDoc, linkDoc, makeKeys, signDoc, untypedFailures, utf8, type Keys } from './chains.js';

let k: Keys;
const NOW = new Date('2030-01-01T00:00:00Z');

beforeAll(async () => {
  await initEngine();
  k = await makeKeys();
}, 120_000);

async function check(layout: Uint8Array | string, links: Iterable<readonly [string, Uint8Array | string]>, extra: Partial<VerifyOptions> = {}): Promise<Verdict> {
  const verdict = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: new Map(links), now: NOW, ...extra });
  expect(untypedFailures(verdict)).toEqual([]);
  return verdict;
}

const codes = (v: Verdict) => v.failures.map((f) => f.code);

/** A Metablock whose signature entries are rewritten (keyids are not signed). */
function relabel(file: Uint8Array, edit: (sigs: { keyid: string; sig: string }[]) => { keyid: string; sig: string }[]): Uint8Array {
  const doc = JSON.parse(fromUtf8(file)) as { signatures: { keyid: string; sig: string }[] };
  doc.signatures = edit(doc.signatures);
  return utf8.encode(JSON.stringify(doc));
}

// ---------------------------------------------------------------------------------------------------------

describe('thresholds count distinct keys', () => {
  it('one signature listed twice counts once', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'review', keys: [k.alice], threshold: 2 }]), k.ownerEd);
    const link = await signDoc(linkDoc('review'), k.alice);
    const twice = relabel(link, (s) => [...s, ...s]);
    const v = await check(layout, [[linkFileName('review', k.alice.keyid), twice]]);
    expect(v.passed).toBe(false);
    expect(codes(v)).toEqual(['LINK_MISSING']);
  });

  it('one key listed twice in pubkeys counts once', async () => {
    const doc = layoutDoc([{ name: 'review', keys: [k.alice], threshold: 2 }]);
    ((doc.steps as { pubkeys: string[] }[])[0]!).pubkeys = [k.alice.keyid, k.alice.keyid];
    const v = await check(await signDoc(doc, k.ownerEd), [[linkFileName('review', k.alice.keyid), await signDoc(linkDoc('review'), k.alice)]]);
    expect(v.passed).toBe(false);
  });

  it('two links of one key for a threshold-2 step: the second is refused (its file names another key)', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'test', keys: [k.carol, k.dave], threshold: 2 }]), k.ownerEd);
    const carolLink = await signDoc(linkDoc('test'), k.carol);
    // carol also signs the file that should be dave's, labelling her signature with dave's key id.
    const forged = relabel(carolLink, (s) => s.map((e) => ({ ...e, keyid: k.dave.keyid })));
    const v = await check(layout, [[linkFileName('test', k.carol.keyid), carolLink], [linkFileName('test', k.dave.keyid), forged]]);
    expect(v.passed).toBe(false);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'SIGNATURE', keyid: k.dave.keyid }));
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'THRESHOLD', step: 'test' }));
  });

  /**
   * One key, listed in the layout under two of the ids it is known by (in-toto 1.x's legacy id and
   * securesystemslib >= 1.0's; RSA and ECDSA keys have four, with and without the PEM's trailing newline).
   * verify.ts `readLayoutKeys` accepts any of `keyidCandidates(key)` and `verifyStepLinks` counts distinct
   * key ids: the same key then counts once per id. The threshold is a number of distinct keys.
   */
  it('one key under two key ids counts once toward a threshold', async () => {
    for (const key of [k.alice, k.bob]) {
      const ids = keyidCandidates(key.publicKey);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      const doc = layoutDoc([{ name: 'review', keys: [key], threshold: 2 }]);
      doc.keys = Object.fromEntries(ids.slice(0, 2).map((id) => [id, { ...keyToDict(key.publicKey), keyid: id }]));
      ((doc.steps as { pubkeys: string[] }[])[0]!).pubkeys = ids.slice(0, 2);
      const link = await signDoc(linkDoc('review'), key);
      const links = ids.slice(0, 2).map((id) => [linkFileName('review', id), relabel(link, (s) => s.map((e) => ({ ...e, keyid: id })))] as const);
      const v = await check(await signDoc(doc, k.ownerEd), links);
      expect(v.passed, `${key.keytype}: one key met a threshold of 2`).toBe(false);
    }
  });
});

describe('who signed what', () => {
  it("a link signed by an authorized key of a different step is not counted, whatever its file's name", async () => {
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }, { name: 'test', keys: [k.bob] }]), k.ownerEd);
    const bobsBuild = await signDoc(linkDoc('build'), k.bob);
    const testLink: [string, Uint8Array] = [linkFileName('test', k.bob.keyid), await signDoc(linkDoc('test'), k.bob)];
    // Under bob's file name: build only looks for alice's.
    let v = await check(layout, [[linkFileName('build', k.bob.keyid), bobsBuild], testLink]);
    expect(v.failures).toEqual([expect.objectContaining({ code: 'LINK_MISSING', step: 'build' })]);
    // Under alice's file name: checked with alice's key, which did not sign it.
    v = await check(layout, [[linkFileName('build', k.alice.keyid), bobsBuild], testLink]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'SIGNATURE', step: 'build', keyid: k.alice.keyid }));
    // With bob's signature relabelled as alice's: still alice's key that must verify it.
    v = await check(layout, [[linkFileName('build', k.alice.keyid), relabel(bobsBuild, (s) => s.map((e) => ({ ...e, keyid: k.alice.keyid })))], testLink]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'SIGNATURE', step: 'build' }));
    expect(v.passed).toBe(false);
  });

  it("a link whose `name` is not its file's step is refused (a deliberate difference from the reference)", async () => {
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }, { name: 'test', keys: [k.alice] }]), k.ownerEd);
    for (const dsse of [false, true]) {
      // alice's genuine test link, replayed as her build link.
      const testLink = await signDoc(linkDoc('test', {}, { app: digest('aa') }), k.alice, dsse);
      const v = await check(layout, [[linkFileName('build', k.alice.keyid), testLink], [linkFileName('test', k.alice.keyid), testLink]]);
      expect(v.failures).toContainEqual(expect.objectContaining({ code: 'FORMAT', step: 'build', file: linkFileName('build', k.alice.keyid) }));
      expect(v.passed).toBe(false);
    }
  });

  it('a sublayout signed by anyone but the step functionary is refused', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'sub', keys: [k.alice] }]), k.ownerEd);
    const sub = await signDoc(layoutDoc([]), k.bob); // bob's, under alice's name
    const v = await check(layout, [[linkFileName('sub', k.alice.keyid), sub]]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'SIGNATURE', keyid: k.alice.keyid }));
  });
});

describe('envelopes', () => {
  it("a DSSE payloadType other than in-toto's is refused, even with a valid signature over it", async () => {
    const good = createDsse(layoutDoc([]));
    for (const type of ['application/json', 'application/vnd.in-toto+JSON', 'application/vnd.in-toto+json ', 'application/vnd.in-toto+json; charset=utf-8', 'application/vnd.in-toto+json\u0000', '']) {
      // The owner really signed PAE(type, payload): only the type is wrong.
      const other: DsseEnvelope = { ...good, payloadType: type, signedBytes: pae(type, good.payload) };
      const bytes = serializeEnvelope(await signEnvelope(other, k.ownerEd));
      const v = await check(bytes, []);
      expect(v.failures, JSON.stringify(type)).toEqual([expect.objectContaining({ code: 'FORMAT' })]);
      expect(v.failures[0]!.message).toContain('payloadType');
    }
  });

  it('a layout whose keys map a key id to a different key is refused', async () => {
    const link: [string, Uint8Array] = [linkFileName('build', k.alice.keyid), await signDoc(linkDoc('build'), k.bob)];
    // alice's id, bob's key, the dict's own keyid saying alice's.
    let doc = layoutDoc([{ name: 'build', keys: [k.alice] }]);
    (doc.keys as Record<string, unknown>)[k.alice.keyid] = { ...keyToDict(k.bob.publicKey), keyid: k.alice.keyid };
    let v = await check(await signDoc(doc, k.ownerEd), [link]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'KEY', keyid: k.alice.keyid }));
    expect(v.passed).toBe(false);
    // The dict's own keyid differing from the id it is listed under.
    doc = layoutDoc([{ name: 'build', keys: [k.alice] }]);
    (doc.keys as Record<string, unknown>)[k.alice.keyid] = keyToDict(k.bob.publicKey);
    v = await check(await signDoc(doc, k.ownerEd), [link]);
    expect(v.failures).toEqual([expect.objectContaining({ code: 'FORMAT' })]);
    // The right key under its id in upper case (another file name, another string).
    doc = layoutDoc([{ name: 'build', keys: [k.alice] }]);
    const upper = k.alice.keyid.toUpperCase();
    doc.keys = { [upper]: { ...keyToDict(k.alice.publicKey), keyid: upper } };
    ((doc.steps as { pubkeys: string[] }[])[0]!).pubkeys = [upper];
    const aliceLink = relabel(await signDoc(linkDoc('build'), k.alice), (s) => s.map((e) => ({ ...e, keyid: upper })));
    v = await check(await signDoc(doc, k.ownerEd), [[linkFileName('build', upper), aliceLink]]);
    expect(v.passed).toBe(false);
    expect(codes(v)).toContain('KEY');
  });

  it('duplicate keys in signed metadata are refused, however spelled, wherever they are', async () => {
    const good = JSON.stringify(layoutDoc([{ name: 'build', keys: [k.alice] }]));
    const evil = JSON.stringify(layoutDoc([{ name: 'build', keys: [k.alice], products: [['ALLOW', '*']] }]));
    const sigs = JSON.stringify(JSON.parse(fromUtf8(await signDoc(JSON.parse(good), k.ownerEd))).signatures);
    const evilSigs = JSON.stringify(JSON.parse(fromUtf8(await signDoc(JSON.parse(evil), k.ownerEd))).signatures);
    const texts = [
      `{"signed":${good},"signed":${evil},"signatures":${sigs}}`, // python and JSON.parse keep the last
      `{"signed":${evil},"signed":${good},"signatures":${evilSigs}}`,
      `{"signed":${good},"s\\u0069gned":${evil},"signatures":${sigs}}`,
      `{"signed":${good.replace('"_type":"layout"', '"_type":"layout","_type":"layout"')},"signatures":${sigs}}`,
      `{"signed":${good.replace('"readme":', '"r\\u0065adme":"x","readme":')},"signatures":${sigs}}`,
      `{"signatures":${sigs},"signed":${good},"signatures":[]}`,
    ];
    for (const text of texts) {
      const v = await check(text, []);
      expect(v.failures, text.slice(0, 120)).toEqual([expect.objectContaining({ code: 'JSON' })]);
      expect(() => readEnvelope(text)).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 9 }));
    }
    // A DSSE payload with a duplicate key, really signed: a signature over bytes two parsers read
    // differently. The link's products say `app` to one reader and `evil` to the other.
    const payload = utf8.encode('{"_type":"link","name":"build","materials":{},"products":{"app":{"sha256":"aa"}},"products":{"evil":{"sha256":"bb"}},"command":[],"byproducts":{},"environment":{}}');
    const dsse: DsseEnvelope = { kind: 'dsse', signed: {}, payload, payloadType: 'application/vnd.in-toto+json', signedBytes: pae('application/vnd.in-toto+json', payload), signatures: [] };
    const link = serializeEnvelope(await signEnvelope(dsse, k.alice));
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice], products: [['CREATE', 'app'], ['DISALLOW', '*']] }]), k.ownerEd);
    const v = await check(layout, [[linkFileName('build', k.alice.keyid), link]]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'JSON', step: 'build' }));
    expect(v.passed).toBe(false);
  });
});

describe('strings: surrogates, invalid UTF-8, Unicode forms', () => {
  const layoutFor = async (products: string[][]) => signDoc(layoutDoc([{ name: 'build', keys: [k.alice], products }]), k.ownerEd);
  /** A DSSE link whose payload bytes are given: signed, so only their reading can fail. */
  const dsseLink = async (payloadText: string | Uint8Array) => {
    const payload = typeof payloadText === 'string' ? utf8.encode(payloadText) : payloadText;
    const env: DsseEnvelope = { kind: 'dsse', signed: {}, payload, payloadType: 'application/vnd.in-toto+json', signedBytes: pae('application/vnd.in-toto+json', payload), signatures: [] };
    return serializeEnvelope(await signEnvelope(env, k.alice));
  };
  const linkWithPath = (path: string) => `{"_type":"link","name":"build","materials":{},"products":{"${path}":{"sha256":"aa"}},"command":[],"byproducts":{},"environment":{}}`;

  it('lone, reversed and broken surrogate escapes are refused (UTF-8 cannot encode them)', async () => {
    const layout = await layoutFor([['ALLOW', '*']]);
    for (const path of ['\\ud800', '\\udc00', '\\udc00\\ud800', '\\ud800\\u0041', '\\ud800\\ud800', 'a\\ud83d', '\\ud83dx\\ude00']) {
      const v = await check(layout, [[linkFileName('build', k.alice.keyid), await dsseLink(linkWithPath(path))]]);
      expect(v.failures, path).toContainEqual(expect.objectContaining({ code: 'JSON', step: 'build' }));
      expect(v.failures[0]!.message).toMatch(/surrogate/);
      expect(codes(v).filter((c) => c !== 'JSON')).toEqual(['THRESHOLD']); // its step then lacks a valid link
    }
  });

  it('raw surrogates (CESU-8), overlong forms and bytes above U+10FFFF are refused', async () => {
    const layout = await layoutFor([['ALLOW', '*']]);
    const head = utf8.encode(linkWithPath('@').split('@')[0]!);
    const tail = utf8.encode(linkWithPath('@').split('@')[1]!);
    for (const bad of [[0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xa2], [0xff], [0x80]]) {
      const payload = new Uint8Array([...head, 0x61, ...bad, ...tail]);
      const v = await check(layout, [[linkFileName('build', k.alice.keyid), await dsseLink(payload)]]);
      expect(v.failures, bad.join(',')).toContainEqual(expect.objectContaining({ code: 'JSON', step: 'build' }));
      expect(v.failures[0]!.message).toMatch(/UTF-8/);
      expect(v.passed).toBe(false);
    }
  });

  it('a valid pair escaped is the same string as the character raw: same path, same canonical bytes', async () => {
    const layout = await layoutFor([['CREATE', '😀'], ['DISALLOW', '*']]);
    const v = await check(layout, [[linkFileName('build', k.alice.keyid), await dsseLink(linkWithPath('\\ud83d\\ude00'))]]);
    expect(v.failures).toEqual([]);
    expect(fromUtf8(canonicalize('"\\ud83d\\ude00"'))).toBe('"😀"');
  });

  it('canonical JSON accepts a string exactly when it is well-formed Unicode, and gives it back unchanged', () => {
    const units = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 12 });
    const mixed = fc.array(fc.oneof(units, fc.constantFrom('\ud800', '\udc00', '\ud83d\ude00', 'é', 'e\u0301', '\u0000', '"', '\\')), { maxLength: 6 }).map((a) => a.join(''));
    fc.assert(
      fc.property(mixed, (s) => {
        const json = JSON.stringify({ p: s }); // escapes lone surrogates as \udXXX since ES2019
        let out: Uint8Array | undefined;
        try {
          out = canonicalize(json);
        } catch (error) {
          expect(error).toMatchObject({ code: 'JSON', engineCode: 5 });
        }
        expect(out !== undefined).toBe(s.isWellFormed());
        // Canonical JSON: the string raw (control characters included), only `"` and `\` escaped.
        if (out) expect(fromUtf8(out)).toBe(`{"p":"${s.replace(/["\\]/g, (c) => `\\${c}`)}"}`);
      }),
      { numRuns: 3_000, seed: 1207 },
    );
  });

  /**
   * link-source.ts `toLoader` encodes string links with TextEncoder, which silently turns a lone surrogate into
   * U+FFFD; everywhere else (engine.ts `toUtf8`) a JS string with a lone surrogate is refused. A caller's
   * string then verifies as bytes it does not hold. Fix: encode with `toUtf8` from engine.ts (and let the
   * InTotoError it throws become the link's JSON failure).
   */
  it('a link given as a JS string with a lone surrogate is refused, not replaced by U+FFFD', async () => {
    const layout = await layoutFor([['CREATE', 'a\ufffdb'], ['DISALLOW', '*']]);
    // alice signed a path with U+FFFD; the reference's writer escapes it (ASCII only).
    const file = fromUtf8(await signDoc(linkDoc('build', {}, { 'a\ufffdb': digest('aa') }), k.alice));
    expect(file).toContain('a\\ufffdb');
    expect((await check(layout, [[linkFileName('build', k.alice.keyid), file]])).passed).toBe(true);
    // The caller's string holds a lone U+D800 there instead: not the text that was signed.
    const tricked = file.replace('a\\ufffdb', 'a\ud800b');
    const v = await check(layout, [[linkFileName('build', k.alice.keyid), tricked]]);
    expect(v.passed).toBe(false);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'JSON', step: 'build' }));
  });

  it('NFC and NFD spellings are different paths: a rule for one does not consume the other', async () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    const layout = await layoutFor([['CREATE', nfc], ['DISALLOW', '*']]);
    const v = await check(layout, [[linkFileName('build', k.alice.keyid), await signDoc(linkDoc('build', {}, { [nfd]: digest('aa') }), k.alice)]]);
    expect(v.failures).toEqual([expect.objectContaining({ code: 'RULE_DISALLOW', artifacts: [nfd] })]);
  });
});

describe('artifact paths are opaque strings, compared byte for byte as in the reference', () => {
  const HOSTILE = ['../app', '/app', './app', 'app/', 'app\u0000', 'app\u0000.sig', 'a\\pp', 'src/../app', 'app\n', ' app', 'app ', '//app', 'APP', 'ap\u200bp'];

  it('none of them is taken for `app` by CREATE, MATCH or REQUIRE; each is reported verbatim', async () => {
    const layout = await signDoc(
      layoutDoc([
        { name: 'build', keys: [k.alice], products: [['CREATE', 'app'], ['DISALLOW', '*']] },
        { name: 'test', keys: [k.bob], materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['REQUIRE', 'app'], ['DISALLOW', '*']] },
      ]),
      k.ownerEd,
    );
    const products = Object.fromEntries(HOSTILE.map((p) => [p, digest('aa')]));
    const v = await check(layout, [
      [linkFileName('build', k.alice.keyid), await signDoc(linkDoc('build', {}, products), k.alice)],
      [linkFileName('test', k.bob.keyid), await signDoc(linkDoc('test', { app: digest('aa') }), k.bob)],
    ]);
    const build = v.failures.find((f) => f.step === 'build')!;
    expect(build).toMatchObject({ code: 'RULE_DISALLOW' });
    expect([...build.artifacts!].sort()).toEqual([...HOSTILE].sort());
    // test's `app` has no counterpart among build's products: MATCH consumes nothing, REQUIRE passes, DISALLOW fails.
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'RULE_DISALLOW', step: 'test', artifacts: ['app'] }));
  });

  it('the queue agrees with in-toto 1.3.1 verify_item_rules on these paths, MATCH prefixes included', () => {
    const links = {
      build: { materials: {}, products: Object.fromEntries([...HOSTILE, 'app', 'src/app', 'src/a\\pp', 'src//app'].map((p) => [p, { sha256: 'aa' }])) },
      test: { materials: Object.fromEntries([...HOSTILE, 'app', 'src/app', 'src/a\\pp', 'src//app', 'src/../app'].map((p) => [p, { sha256: 'aa' }])), products: {} },
    };
    const ruleSets = [
      [['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'build']],
      [['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'FROM', 'build']],
      [['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'IN', 'src', 'FROM', 'build']],
      [['MATCH', 'app', 'IN', 'src/..', 'WITH', 'PRODUCTS', 'FROM', 'build']],
      [['ALLOW', '*app'], ['REQUIRE', 'app\u0000']],
      [['MATCH', '*', 'IN', 'src\\', 'WITH', 'PRODUCTS', 'FROM', 'build']],
    ];
    const program = `
import json, sys
from in_toto.models.link import Link
from in_toto.models.metadata import Metablock
from in_toto import verifylib
from in_toto.exceptions import RuleVerificationError
case = json.load(sys.stdin)
links = {n: Metablock(signed=Link(name=n, materials=l["materials"], products=l["products"])) for n, l in case["links"].items()}
out = []
for rules in case["rules"]:
    try:
        verifylib.verify_item_rules("test", "materials", rules, links)
        err = None
    except RuleVerificationError:
        err = "RULE"
    except KeyError:
        err = "KeyError"
    out.append({"error": err, "queue": sorted(verifylib.RULE_TRACE["trace"][-1]["queue"]) if verifylib.RULE_TRACE["trace"] else None})
json.dump(out, sys.stdout)
`;
    const python = JSON.parse(runPython(program, JSON.stringify({ links, rules: ruleSets })).toString('utf8')) as { error: string | null; queue: string[] | null }[];
    const rules = new RuleEngine();
    const handles = new Map(Object.entries(links).map(([name, l]) => [name, rules.load(JSON.stringify(l), 'whole')] as const));
    ruleSets.forEach((set, i) => {
      const result = rules.apply([{ name: 'test', materials: set.map((t) => parseRule(t, { field: 'r' })), products: [] }], handles);
      const py = python[i]!;
      if (py.error === null) {
        expect(result.failures, JSON.stringify(set)).toEqual([]);
        const left = new Set(Object.keys(links.test.materials));
        for (const t of result.trace.filter((e) => !e.implicit && e.side === 'materials')) t.consumed.forEach((p) => left.delete(p));
        expect([...left].sort(), JSON.stringify(set)).toEqual([...py.queue!].sort());
      } else {
        expect(result.failures[0]?.code, JSON.stringify(set)).toBe(py.error === 'KeyError' ? 'RULE_MATCH' : set.at(-1)![0] === 'REQUIRE' ? 'RULE_REQUIRE' : 'RULE_DISALLOW');
      }
    });
    rules.close();
  });

  it('step names that are paths cannot reach outside a link directory', async () => {
    const dir = makeTempDir('hostile-links-');
    try {
      mkdirSync(join(dir, 'links'));
      writeFileSync(join(dir, `x.${k.alice.keyid.slice(0, 8)}.link`), await signDoc(linkDoc('../x'), k.alice));
      for (const name of ['../x', '../../etc/passwd', '/etc/passwd', 'a\u0000b', '..']) {
        const layout = await signDoc(layoutDoc([{ name, keys: [k.alice] }]), k.ownerEd);
        const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: join(dir, 'links') }, now: NOW });
        expect(untypedFailures(v)).toEqual([]);
        expect(v.passed, name).toBe(false);
        expect(['FORMAT', 'IO', 'LINK_MISSING']).toContain(v.failures[0]!.code);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('size, depth and count', () => {
  it('nesting 100,000 deep in a layout, a link, a DSSE payload or a key is refused without exhausting a stack', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const deepObject = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    let v = await check(`{"signed":${deep},"signatures":[]}`, []);
    expect(v.failures).toEqual([expect.objectContaining({ code: 'LIMIT' })]);
    v = await check(`{"signed":${deepObject},"signatures":[]}`, []);
    expect(v.failures).toEqual([expect.objectContaining({ code: 'LIMIT' })]);
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
    const link = `{"signed":{"_type":"link","name":"build","materials":{},"products":{},"command":[],"byproducts":{},"environment":${deepObject}},"signatures":[]}`;
    v = await check(layout, [[linkFileName('build', k.alice.keyid), link]]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', step: 'build' }));
    const payload = utf8.encode(deep);
    const env: DsseEnvelope = { kind: 'dsse', signed: {}, payload, payloadType: 'application/vnd.in-toto+json', signedBytes: pae('application/vnd.in-toto+json', payload), signatures: [] };
    v = await check(layout, [[linkFileName('build', k.alice.keyid), serializeEnvelope(await signEnvelope(env, k.alice))]]);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', step: 'build' }));
    let caught: unknown;
    try {
      loadPublicKey(`{"keytype":"ed25519","scheme":"ed25519","keyval":${deepObject}}`);
    } catch (error) {
      caught = error;
    }
    expect(isTypedError(caught)).toBe(true);
    // Raised to the engine's most (10,000), the canonical writer's recursion still fits.
    const engine = createEngine({ maxDepth: 10_000 });
    expect(engine.canonicalize('['.repeat(10_000) + ']'.repeat(10_000)).length).toBe(20_000);
    expect(() => engine.canonicalize('['.repeat(10_001) + ']'.repeat(10_001))).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });

  it('a link larger than the configured limit is a LIMIT failure of its step, and the engine stays usable', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
    const big = await signDoc({ ...linkDoc('build'), byproducts: { stdout: 'x'.repeat(2 << 20) } }, k.alice);
    const engine = getEngine();
    const before = engine.limits.maxInputBytes;
    engine.setLimits({ maxInputBytes: 1 << 20 });
    try {
      const v = await check(layout, [[linkFileName('build', k.alice.keyid), big]]);
      expect(v.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', step: 'build' }));
      expect(v.passed).toBe(false);
    } finally {
      engine.setLimits({ maxInputBytes: before });
    }
    expect((await check(layout, [[linkFileName('build', k.alice.keyid), big]])).passed).toBe(true);
  });

  /**
   * link-source.ts `directoryLoader` reads every link file whole (`fs.readFile`) and only then does the engine
   * compare its length with the limit: a 10 GB link is read into memory first (and over 2 GiB, readFile fails
   * with an IO error instead of LIMIT). Fix: open the file, `fstat` the handle, refuse LIMIT when `size` is
   * above the limit, and read at most limit + 1 bytes (a file can grow between fstat and read); pass the limit
   * to loaders (e.g. `maxLinkBytes` in VerifyOptions, defaulting to the engine's maxInputBytes).
   */
  it('a link file larger than the limit is refused before it is read whole', async () => {
    const dir = makeTempDir('hostile-big-');
    const fsp = (process as unknown as { getBuiltinModule(id: string): typeof import('node:fs/promises') }).getBuiltinModule('node:fs/promises');
    const readFile = fsp.readFile;
    const read: number[] = [];
    const engine = getEngine();
    const before = engine.limits.maxInputBytes;
    try {
      const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
      writeFileSync(join(dir, linkFileName('build', k.alice.keyid)), await signDoc({ ...linkDoc('build'), byproducts: { stdout: 'x'.repeat(4 << 20) } }, k.alice));
      (fsp as { readFile: unknown }).readFile = async (...args: Parameters<typeof readFile>) => {
        const out = await readFile(...args);
        read.push(out.length);
        return out;
      };
      engine.setLimits({ maxInputBytes: 1 << 20 });
      const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: dir }, now: NOW });
      expect(v.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', step: 'build' }));
      expect(Math.max(0, ...read)).toBeLessThanOrEqual((1 << 20) + 1);
    } finally {
      (fsp as { readFile: unknown }).readFile = readFile;
      engine.setLimits({ maxInputBytes: before });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * A link "file" that is a FIFO (or a device: /dev/zero, /dev/stdin) in a link directory: `fs.readFile`
   * blocks forever on a FIFO no one writes, and reads /dev/zero until it has allocated 2 GiB. verify() never
   * returns. Fix (directoryLoader): open with O_NONBLOCK, fstat, refuse anything but a regular file (IO or
   * FORMAT, naming the path), then read with the size limit above.
   */
  it('a link file that is a FIFO is refused at once instead of hanging verify()', async () => {
    const dir = makeTempDir('hostile-fifo-');
    const fifo = join(dir, linkFileName('build', k.alice.keyid));
    execFileSync('mkfifo', [fifo]);
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
    const pending = verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: dir }, now: NOW });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([pending, new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 1_500)))]);
    clearTimeout(timer);
    if (outcome === 'hung') {
      // Release the reader blocked in open(2) (a writer appears and leaves: end of file), so no thread stays stuck.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader any more
      }
      await pending;
    }
    rmSync(dir, { recursive: true, force: true });
    expect(outcome).not.toBe('hung');
    expect((outcome as Verdict).failures).toContainEqual(expect.objectContaining({ step: 'build', file: expect.stringContaining('.link') }));
  });

  it('1,048,576 artifacts whose paths all collide under a naive hash load and match in linear probe counts', () => {
    // Java's String.hashCode: "Aa" and "BB" collide, so do all 2^n strings of n such blocks.
    const naiveHash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0);
    // Built in code point order (the order the reference writes keys in), each block prepended.
    const paths = (bits: number) => {
      let all = [''];
      for (let b = 0; b < bits; b++) all = [...all.map((p) => `Aa${p}`), ...all.map((p) => `BB${p}`)];
      return all;
    };
    const engine = createEngine();
    const rules = new RuleEngine(engine);
    const counts = (bits: number) => {
      const all = paths(bits);
      expect(naiveHash(all[0]!)).toBe(naiveHash(all[all.length - 1]!));
      const json = `{"materials":{${all.map((p) => `"${p}":{"sha256":"ab"}`).join(',')}},"products":{}}`;
      const link = rules.load(json, 'whole');
      const load = rules.lastCounts.probes;
      // Looked up in a table of their own (the same paths and one more): against the link itself, the one table
      // shared would need no look-ups.
      const other = rules.load(json.replace('"materials":{', '"materials":{"one more":{"sha256":"ab"},'), 'whole');
      const result = rules.apply(
        [{ name: 'x', materials: [parseRule(['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', 'y'], { field: 'r' }), parseRule(['DISALLOW', '*'], { field: 'r' })], products: [] }],
        new Map([['x', link], ['y', other]]),
        { trace: false },
      );
      expect(result.passed).toBe(true);
      const lookups = rules.lastCounts.probes;
      rules.free(link);
      rules.free(other);
      return { n: all.length, load, lookups };
    };
    const half = counts(19);
    const full = counts(20);
    expect(full.n).toBe(1_048_576);
    expect(full.load / full.n).toBeLessThan(2.5); // about one probe per insert: load factor <= 1/2
    expect(full.lookups / full.n).toBeLessThan(2.5);
    expect(full.load / half.load).toBeGreaterThan(1.8);
    expect(full.load / half.load).toBeLessThan(2.2);
    expect(full.lookups / half.lookups).toBeGreaterThan(1.8);
    expect(full.lookups / half.lookups).toBeLessThan(2.2);
    rules.close();
  }, 120_000);

  it('100,000 forged signatures on one link cost one signature check per key', async () => {
    const backend = await getBackend();
    let checks = 0;
    const original = backend.verify;
    (backend as { verify: unknown }).verify = async (...args: Parameters<typeof original>) => {
      checks++;
      return original.apply(backend, args);
    };
    // Where crypto is synchronous (node:crypto), a link's signature is checked as it is read, in engine memory.
    const originalSync = backend.verifySync;
    if (originalSync) {
      (backend as { verifySync: unknown }).verifySync = (...args: Parameters<typeof originalSync>) => {
        checks++;
        return originalSync.apply(backend, args);
      };
    }
    try {
      const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
      const link = relabel(await signDoc(linkDoc('build'), k.alice), (s) => [
        ...Array.from({ length: 50_000 }, () => ({ keyid: k.alice.keyid, sig: '00'.repeat(64) })),
        ...s,
        ...Array.from({ length: 50_000 }, (_, i) => ({ keyid: i.toString(16).padStart(64, '0'), sig: 'ab' })),
      ]);
      const v = await check(layout, [[linkFileName('build', k.alice.keyid), link]]);
      // The first signature under alice's id is the one checked (the reference's rule): a forgery, so it fails.
      expect(codes(v)).toEqual(['SIGNATURE', 'THRESHOLD']);
      expect(checks).toBe(2); // the layout's, and one for the link
    } finally {
      delete (backend as { verify?: unknown }).verify;
      delete (backend as { verifySync?: unknown }).verifySync;
    }
  });
});

describe('sublayouts and loaders', () => {
  /**
   * A functionary's sublayout whose steps are each "linked" by the sublayout itself: one file, served for every
   * path (symlinks back to one file and one directory, or a loader). It used to cost steps^depth loads, each a
   * parse and a signature check of the whole file (a 1 MiB one: ~55 s and 18,074 failures). Now each distinct file
   * is read once and a layout that contains itself ends verification: cost is linear in the distinct input,
   * measured here as the bytes the engine parses, and the verdict is a line or two.
   */
  async function selfNesting(steps: number, readmeBytes: number) {
    const doc = layoutDoc(Array.from({ length: steps }, (_, i) => ({ name: `s${i}`, keys: [k.erin] })));
    doc.readme = 'x'.repeat(readmeBytes);
    const sub = await signDoc(doc, k.erin);
    const layout = await signDoc(layoutDoc([{ name: 'package', keys: [k.erin] }]), k.ownerEd);
    return { sub, layout };
  }

  /** Runs `run` and returns what it gave and the bytes the engine parsed meanwhile. */
  async function parsedBytes<T>(run: () => Promise<T>): Promise<{ result: T; bytes: number; reads: number }> {
    // Every way a link file enters the engine: `readEnvelope` (any file), `read` (a DSSE payload read the general way).
    const original = { read: RuleEngine.prototype.read, readEnvelope: RuleEngine.prototype.readEnvelope };
    let bytes = 0;
    let reads = 0;
    RuleEngine.prototype.read = function (this: RuleEngine, link, ...rest) {
      bytes += link.length;
      reads++;
      return original.read.call(this, link, ...rest);
    };
    RuleEngine.prototype.readEnvelope = function (this: RuleEngine, link, ...rest) {
      bytes += link.length;
      reads++;
      return original.readEnvelope.call(this, link, ...rest);
    };
    try {
      return { result: await run(), bytes, reads };
    } finally {
      RuleEngine.prototype.read = original.read;
      RuleEngine.prototype.readEnvelope = original.readEnvelope;
    }
  }

  it('a 1 MiB self-nesting sublayout in a link directory of symlinks is read once and fails in a line', async () => {
    const { sub, layout } = await selfNesting(2_000, 1 << 20);
    expect(sub.length).toBeGreaterThan(1 << 20);
    const dir = makeTempDir('in-toto-self-nesting-');
    try {
      writeFileSync(join(dir, 'sub.layout'), sub);
      const id = k.erin.keyid.slice(0, 8);
      for (const name of ['package', ...Array.from({ length: 2_000 }, (_, i) => `s${i}`)]) {
        symlinkSync('sub.layout', join(dir, `${name}.${id}.link`));
        symlinkSync('.', join(dir, `${name}.${id}`));
      }
      const { result: v, bytes, reads } = await parsedBytes(() => verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: dir }, now: NOW }));
      // Linear: the one distinct file is parsed once (the old code parsed it up to maxLinkFiles times).
      expect(reads).toBe(1);
      expect(bytes).toBe(sub.length);
      expect(v.passed).toBe(false);
      expect(v.failures).toEqual([expect.objectContaining({ code: 'LIMIT', layout: ['package'], step: 's0' })]);
      expect(v.failures[0]!.message).toMatch(/its sublayout is the same file, with the same link directory, as the sublayout of step 'package', which contains it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the same, served by a loader for every path (no directory to recognize): one parse, stopped by a budget in one line', async () => {
    const { sub, layout } = await selfNesting(6, 0);
    let calls = 0;
    const loader = async (path: string) => {
      calls++;
      return path.endsWith('.link') ? sub : undefined;
    };
    const { result: v, reads } = await parsedBytes(() => verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: loader, now: NOW }));
    // Known by its digest after the first read: parsed and signature-checked once.
    expect(reads).toBe(1);
    expect(calls).toBeLessThanOrEqual(10_000);
    expect(codes(v)[0]).toBe('LIMIT');
    expect(v.failures.length).toBeLessThanOrEqual(2);
  });

  /**
   * A large link's signed bytes are not kept once its signature is checked as it is read (in engine memory, no
   * copy). One file that two keys signed, found for both (a symlink): the second check reads it again, and uses
   * those bytes only when the file still records what was read the first time; a file changed in between is IO.
   */
  it('a large link checked again by another key is read again, and must be unchanged', async () => {
    const artifacts = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`src/file${i}.c`, digest((i % 251).toString(16).padStart(2, '0'))]));
    const twoSigners = async (doc: Record<string, unknown>) => {
      const once = readEnvelope(await signDoc(doc, k.alice));
      return serializeEnvelope(await signEnvelope(once, k.erin));
    };
    const file = await twoSigners(linkDoc('build', artifacts, artifacts));
    expect(file.length).toBeGreaterThan(2 << 20);
    const changed = await twoSigners(linkDoc('build', artifacts, { ...artifacts, 'src/file0.c': digest('fe') }));
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice, k.erin], threshold: 2 }]), k.ownerEd);
    const run = async (edit?: () => void) => {
      const dir = makeTempDir('in-toto-reread-');
      const original = RuleEngine.prototype.readEnvelope;
      let reads = 0;
      RuleEngine.prototype.readEnvelope = function (this: RuleEngine, ...args: Parameters<typeof original>) {
        const out = original.apply(this, args);
        if (reads++ === 0) edit?.call(undefined);
        return out;
      };
      try {
        writeFileSync(join(dir, linkFileName('build', k.alice.keyid)), file);
        symlinkSync(linkFileName('build', k.alice.keyid), join(dir, linkFileName('build', k.erin.keyid)));
        edit = edit && (() => writeFileSync(join(dir, linkFileName('build', k.alice.keyid)), changed));
        const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: dir }, now: NOW });
        return { v, reads };
      } finally {
        RuleEngine.prototype.readEnvelope = original;
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const same = await run();
    expect(same.v.failures).toEqual([]);
    expect(same.v.passed).toBe(true);
    // Read for alice (her signature checked in engine memory by node:crypto), and again for erin's check.
    expect(same.reads).toBe(2);
    const edited = await run(() => {});
    expect(edited.reads).toBe(2);
    expect(edited.v.passed).toBe(false);
    expect(codes(edited.v)).toEqual(['IO', 'THRESHOLD']);
    expect(edited.v.failures[0]).toEqual(expect.objectContaining({ step: 'build', message: expect.stringContaining('changed while it was verified') }));
  });

  it('hard links (or copies) of one 1 MiB sublayout for every step are parsed once: memory and time follow the distinct bytes', async () => {
    const { sub, layout } = await selfNesting(300, 1 << 20);
    const dir = makeTempDir('in-toto-hardlinks-');
    try {
      const id = k.erin.keyid.slice(0, 8);
      writeFileSync(join(dir, `package.${id}.link`), sub);
      mkdirSync(join(dir, `package.${id}`));
      // Every step of the sublayout is linked by a hard link to it, one directory down: a finite chain of distinct
      // paths and real paths, whose inner links are missing.
      for (let i = 0; i < 300; i++) linkSync(join(dir, `package.${id}.link`), join(dir, `package.${id}`, `s${i}.${id}.link`));
      const { result: v, reads, bytes } = await parsedBytes(() => verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: dir }, now: NOW }));
      expect(reads).toBe(1);
      expect(bytes).toBe(sub.length);
      expect(v.passed).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('distinct sublayouts that fan out (each level names the next for every step) cost the distinct bytes once, then stop at the budget', async () => {
    // Level i is a sublayout of 8 steps, each delegated to the next level's sublayout: 8^depth instances.
    const levels: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const doc = layoutDoc(Array.from({ length: 8 }, (_, j) => ({ name: `l${i}s${j}`, keys: [k.erin] })));
      doc.readme = `level ${i} `.repeat(10_000);
      levels.push(await signDoc(doc, k.erin));
    }
    const layout = await signDoc(layoutDoc([{ name: 'package', keys: [k.erin] }]), k.ownerEd);
    const loader = async (path: string) => (path.endsWith('.link') ? levels[path.split('/').length - 1] : undefined);
    const backend = await getBackend();
    const original = backend.verify;
    let checks = 0;
    (backend as { verify: unknown }).verify = async (...args: Parameters<typeof original>) => {
      checks++;
      return original.apply(backend, args);
    };
    try {
      const { result: v, bytes } = await parsedBytes(() =>
        verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: loader, now: NOW, maxLinkFiles: 2_000, maxSublayoutDepth: 16 }),
      );
      const distinct = levels.reduce((sum, level) => sum + level.length, 0);
      expect(bytes).toBeLessThanOrEqual(distinct);
      // The root layout's signature, and one per distinct sublayout: not one per instance.
      expect(checks).toBeLessThanOrEqual(1 + levels.length);
      // Why it stopped comes first; the steps that failed before it are listed up to the cap.
      expect(v.failures[0]).toEqual(expect.objectContaining({ code: 'LIMIT' }));
      expect(v.failures[0]!.message).toMatch(/maxSublayouts|maxLinkFiles/);
      expect(v.failures.length).toBeLessThanOrEqual(102);
    } finally {
      delete (backend as { verify?: unknown }).verify;
    }
  });

  it('sibling sublayouts that share one directory through symlinks are verified once per level, not once per path (found by review)', async () => {
    // Level i's directory holds s0..s2, each the same sublayout, each with its directory a symlink to level i+1's:
    // 3^6 paths, 7 distinct (file, directory) pairs. Re-verifying each path cost 4 GiB and an engine trap.
    const steps = Array.from({ length: 3 }, (_, i) => ({ name: `s${i}`, keys: [k.erin] }));
    const sub = await signDoc(layoutDoc(steps), k.erin);
    const layout = await signDoc(layoutDoc([{ name: 'package', keys: [k.erin] }]), k.ownerEd);
    const dir = makeTempDir('in-toto-shared-dirs-');
    const id = k.erin.keyid.slice(0, 8);
    try {
      writeFileSync(join(dir, 'sub.layout'), sub);
      const levels = 6;
      for (let i = 0; i <= levels; i++) mkdirSync(join(dir, `D${i}`));
      symlinkSync('sub.layout', join(dir, `package.${id}.link`));
      symlinkSync('D0', join(dir, `package.${id}`));
      for (let i = 0; i < levels; i++) {
        for (const s of steps) {
          symlinkSync('../sub.layout', join(dir, `D${i}`, `${s.name}.${id}.link`));
          symlinkSync(`../D${i + 1}`, join(dir, `D${i}`, `${s.name}.${id}`));
        }
      }
      const original = RuleEngine.prototype.compose;
      let composed = 0;
      RuleEngine.prototype.compose = function (this: RuleEngine, ...args: Parameters<typeof original>) {
        composed++;
        return original.apply(this, args);
      };
      let v: Verdict;
      try {
        v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: { directory: dir }, now: NOW, maxSublayoutDepth: 10 });
      } finally {
        RuleEngine.prototype.compose = original;
      }
      // One summary per level (the innermost lacks its links), not one per path.
      expect(composed).toBeLessThanOrEqual(levels + 2);
      expect(codes(v).filter((c) => c === 'LIMIT')).toEqual([]);
      expect(v.failures.some((f) => f.code === 'LINK_MISSING' && f.layout.length === levels + 1)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a budget on the sublayouts verified: more than maxSublayouts stops verification', async () => {
    const steps = Array.from({ length: 4 }, (_, i) => ({ name: `s${i}`, keys: [k.erin] }));
    const sub = await signDoc(layoutDoc(steps), k.erin);
    const layout = await signDoc(layoutDoc([{ name: 'package', keys: [k.erin] }]), k.ownerEd);
    // A loader gives every path its own directory: nothing to share, so only the budget bounds it.
    const loader = async (path: string) => (path.endsWith('.link') ? sub : undefined);
    const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: loader, now: NOW, maxSublayouts: 5, maxSublayoutDepth: 16 });
    expect(v.failures[0]).toEqual(expect.objectContaining({ code: 'LIMIT' }));
    expect(v.failures[0]!.message).toContain('more than 5 sublayouts');
  });

  it('a budget on the bytes read: distinct files past maxTotalLinkBytes stop verification', async () => {
    const { sub, layout } = await selfNesting(3, 1_000);
    // A loader that makes a new copy for every path: no two files are the same.
    const loader = async (path: string) => (path.endsWith('.link') ? sub.slice() : undefined);
    const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: loader, now: NOW, maxTotalLinkBytes: sub.length * 5 });
    expect(v.failures).toEqual([expect.objectContaining({ code: 'LIMIT' })]);
    expect(v.failures[0]!.message).toContain('maxTotalLinkBytes');
  });

  it('a verdict lists at most 100 failures, then says how many more there were; a forged signature past them is still listed', async () => {
    const steps = Array.from({ length: 150 }, (_, i) => ({ name: `s${i}`, keys: [k.alice] }));
    const v = await check(await signDoc(layoutDoc(steps), k.ownerEd), []);
    expect(v.failures).toHaveLength(101);
    expect(v.failures[100]).toEqual(expect.objectContaining({ code: 'LIMIT' }));
    expect(v.failures[100]!.message).toMatch(/^50 more failures not listed \(the first 100 are/);
    // The 151st step's link is signed by the wrong key: its SIGNATURE failure is listed all the same.
    const forged = await signDoc(layoutDoc([...steps, { name: 'last', keys: [k.alice] }]), k.ownerEd);
    const w = await check(forged, [[linkFileName('last', k.alice.keyid), await signDoc(linkDoc('last'), k.bob)]]);
    expect(w.failures.filter((f) => f.code === 'SIGNATURE')).toEqual([expect.objectContaining({ step: 'last' })]);
  });

  it('a loader that reuses one buffer for every file: each file is judged by what it held when read (no stale cache)', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice, k.erin], threshold: 2 }]), k.ownerEd);
    const byAlice = await signDoc(linkDoc('build', {}, { app: digest('aa') }), k.alice);
    const byBob = await signDoc(linkDoc('build', {}, { app: digest('bb') }), k.erin);
    expect(byAlice.length).toBe(byBob.length);
    const buffer = new Uint8Array(byAlice.length);
    const loader = async (path: string) => {
      if (path === linkFileName('build', k.alice.keyid)) buffer.set(byAlice);
      else if (path === linkFileName('build', k.erin.keyid)) buffer.set(byBob);
      else return undefined;
      return buffer;
    };
    const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: loader, now: NOW });
    expect(codes(v)).toEqual(['LINKS_DISAGREE']);
  });

  it('certificate functionaries in many steps: the link directory is listed once, not once per step', async () => {
    const steps = Array.from({ length: 200 }, (_, i) => ({ name: `c${i}`, keys: [] as typeof k.alice[] }));
    const doc = layoutDoc(steps);
    for (const step of doc.steps as Record<string, unknown>[]) step.cert_constraints = [{ common_name: '*', uris: ['*'], emails: ['*'], organizations: ['*'], roots: ['*'], dns_names: ['*'] }];
    let lists = 0;
    const loader = Object.assign(async () => undefined, {
      list: async () => {
        lists++;
        return Array.from({ length: 1_000 }, (_, i) => `other${i}.link`);
      },
    });
    const v = await verify({ layout: await signDoc(doc, k.ownerEd), layoutKeys: [k.ownerEd.publicKey], links: loader, now: NOW });
    expect(v.passed).toBe(false);
    expect(lists).toBe(1);
  });

  /**
   * verify.ts `verifyStepLinks` checks the signature over the loader's bytes (`readEnvelope(bytes)`), awaits the
   * crypto, then hands the same `bytes` to the rule engine (`ctx.rules.load(bytes, 'signed')`): bytes that
   * change in between (a buffer the caller reuses, a SharedArrayBuffer) reach the rules unsigned. Fix: load the
   * artifact tables from what was verified: `ctx.rules.load(envelope.signedBytes, 'whole')` for a Metablock
   * (the canonical `signed`, a private copy) and `envelope.payload` for DSSE (already a copy), or copy
   * `bytes` once before reading it.
   */
  it('bytes that change after their signature was checked never reach the rules', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice], products: [['CREATE', 'app'], ['DISALLOW', '*']] }]), k.ownerEd);
    // alice signed a link whose product `evl` the layout disallows.
    const bytes = await signDoc(linkDoc('build', {}, { evl: digest('aa') }), k.alice);
    const backend = await getBackend();
    const original = backend.verify;
    (backend as { verify: unknown }).verify = async (...args: Parameters<typeof original>) => {
      const ok = await original.apply(backend, args);
      if (args[0].keyid === k.alice.keyid) {
        // After alice's signature held, the buffer now says `app`.
        const at = fromUtf8(bytes).indexOf('"evl"');
        bytes.set(utf8.encode('"app"'), at);
      }
      return ok;
    };
    try {
      const v = await check(layout, [[linkFileName('build', k.alice.keyid), bytes]]);
      expect(v.passed).toBe(false);
      expect(v.failures).toContainEqual(expect.objectContaining({ code: 'RULE_DISALLOW', artifacts: ['evl'] }));
    } finally {
      delete (backend as { verify?: unknown }).verify;
    }
  });

  it('fields in-toto 1.3.1 does not know, covered by the signature, are refused rather than ignored', async () => {
    for (const [where, field] of [['layout', 'require_signed_inspections'], ['step', 'expected_environment']] as const) {
      const doc = layoutDoc([{ name: 'build', keys: [k.alice] }]);
      if (where === 'layout') doc[field] = true;
      else (doc.steps as Record<string, unknown>[])[0]![field] = { CI: 'true' };
      const v = await check(await signDoc(doc, k.ownerEd), [[linkFileName('build', k.alice.keyid), await signDoc(linkDoc('build'), k.alice)]]);
      expect(v.passed).toBe(false);
      expect(v.failures.map((f) => f.message).join('\n')).toContain(field);
    }
  });
});

afterAll(() => {
  // Nothing of ours may be left in the shared engine's limits.
  expect(getEngine().limits.maxInputBytes).toBe(256 << 20);
});
