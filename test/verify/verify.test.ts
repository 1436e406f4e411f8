/**
 * verify() as a library, in any runtime: links given as bytes, DSSE and Metablock, inspections pre-recorded or
 * explicitly skipped, and every failure path with the step, key or file it concerns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { initEngine } from '../../bindings/engine.js';
import { createMetablock, serializeEnvelope, signEnvelope } from '../../bindings/metadata/envelope.js';
import { keyToDict, type PrivateKey } from '../../bindings/keys/keys.js';
import { linkFileName, sublayoutDirName } from '../../bindings/verify/link-source.js';
import { verify, type VerifyOptions } from '../../bindings/verify/verify.js';
import { layoutDoc, linkDoc, signDoc as signed } from '../helpers/documents.js';

const SHA = (c: string) => ({ sha256: c.repeat(64) });

let owner: PrivateKey;
let alice: PrivateKey;
let bob: PrivateKey;

/** A two-step chain: build creates app, test consumes it. Links as a Map, as a browser would hold them. */
async function chain(opts: { dsse?: boolean; appDigest?: string } = {}): Promise<VerifyOptions> {
  const layout = await signed(
    layoutDoc([
      { name: 'build', keys: [alice], products: [['CREATE', 'app'], ['DISALLOW', '*']] },
      { name: 'test', keys: [bob], materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
    ]),
    owner,
    opts.dsse,
  );
  const links = new Map<string, Uint8Array>([
    [linkFileName('build', alice.keyid), await signed(linkDoc('build', {}, { app: SHA('a') }), alice, opts.dsse)],
    [linkFileName('test', bob.keyid), await signed(linkDoc('test', { app: SHA(opts.appDigest ?? 'a') }), bob, opts.dsse)],
  ]);
  return { layout, layoutKeys: [owner.publicKey], links };
}

describe('verify()', () => {
  beforeAll(async () => {
    await initEngine();
    [owner, alice, bob] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ecdsa')]);
  });

  it('passes a chain given as bytes, Metablock or DSSE', async () => {
    for (const dsse of [false, true]) {
      const verdict = await verify(await chain({ dsse }));
      expect(verdict.failures).toEqual([]);
      expect(verdict.passed).toBe(true);
      expect(verdict.summary).toMatchObject({ materials: {}, products: {} });
    }
  });

  it('leaves out the trace and the summary when asked (they cost time on large chains)', async () => {
    const full = await verify(await chain());
    expect(full.trace.length).toBeGreaterThan(0);
    expect(full.summary).toBeDefined();
    const lean = await verify({ ...(await chain()), trace: false, summary: false });
    expect(lean.passed).toBe(true);
    expect(lean.trace).toEqual([]);
    expect(lean.summary).toBeUndefined();
    const failing = await verify({ ...(await chain({ appDigest: 'b' })), trace: false });
    expect(failing.failures.map((f) => f.code)).toEqual(['RULE_DISALLOW']);
  });

  it('fails a broken hash chain with the step, rule, artifact and both digests', async () => {
    const verdict = await verify(await chain({ appDigest: 'b' }));
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toHaveLength(1);
    expect(verdict.failures[0]).toMatchObject({
      code: 'RULE_DISALLOW', step: 'test', side: 'materials', ruleIndex: 1, rule: 'DISALLOW *', artifacts: ['app'],
      digests: [{ artifact: 'app', expected: SHA('a'), found: SHA('b'), source: "products of 'build'" }],
    });
    expect(verdict.summary).toBeUndefined();
  });

  it('judges expiry against the given clock; expiring exactly now is not yet expired (as the reference)', async () => {
    const options = await chain();
    expect((await verify({ ...options, now: new Date('2100-01-01T00:00:00Z') })).passed).toBe(true);
    const late = await verify({ ...options, now: new Date('2100-01-01T00:00:01Z') });
    expect(late.failures.map((f) => f.code)).toEqual(['LAYOUT_EXPIRED']);
  });

  it('stops at a layout that is not signed by every given key, naming the key', async () => {
    const verdict = await verify({ ...(await chain()), layoutKeys: [owner.publicKey, alice.publicKey] });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'SIGNATURE', keyid: alice.keyid })]);
  });

  it('refuses a link whose name is another step, even when signed by an authorized key', async () => {
    const options = await chain();
    const links = new Map(options.links as Map<string, Uint8Array>);
    links.set(linkFileName('build', alice.keyid), await signed(linkDoc('deploy', {}, { app: SHA('a') }), alice));
    const verdict = await verify({ ...options, links });
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'FORMAT', step: 'build', file: linkFileName('build', alice.keyid) }));
    expect(verdict.passed).toBe(false);
  });

  it('does not count a link signed by a key authorized only for another step', async () => {
    const layout = await signed(layoutDoc([{ name: 'build', keys: [alice] }, { name: 'test', keys: [bob] }]), owner);
    // bob signs a build link and names it after his own key: build's loader looks only for alice's file.
    const links = new Map([
      [linkFileName('build', bob.keyid), await signed(linkDoc('build'), bob)],
      [linkFileName('test', bob.keyid), await signed(linkDoc('test'), bob)],
    ]);
    const verdict = await verify({ layout, layoutKeys: [owner.publicKey], links });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'LINK_MISSING', step: 'build' })]);
  });

  it('counts one key once toward a threshold, however often it is listed or signs', async () => {
    const layout = await signed(layoutDoc([{ name: 'review', keys: [alice, alice], threshold: 2 }]), owner);
    const envelope = await signEnvelope(createMetablock(linkDoc('review')), alice);
    const twice = serializeEnvelope({ ...envelope, signatures: [...envelope.signatures, ...envelope.signatures] });
    const verdict = await verify({ layout, layoutKeys: [owner.publicKey], links: new Map([[linkFileName('review', alice.keyid), twice]]) });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'LINK_MISSING', step: 'review' })]);
  });

  it("refuses a layout key whose id is not the key's own", async () => {
    const doc = layoutDoc([{ name: 'build', keys: [alice] }]);
    // alice's id now maps to bob's key (its keyid field says alice's): a signature check under alice's id
    // must not use bob's key.
    (doc.keys as Record<string, unknown>)[alice.keyid] = { ...keyToDict(bob.publicKey), keyid: alice.keyid };
    const layout = await signed(doc, owner);
    const verdict = await verify({ layout, layoutKeys: [owner.publicKey], links: new Map([[linkFileName('build', alice.keyid), await signed(linkDoc('build'), bob)]]) });
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'KEY', keyid: alice.keyid }));
    expect(verdict.passed).toBe(false);
  });

  it('collects failures of independent steps instead of stopping at the first', async () => {
    const layout = await signed(
      layoutDoc([
        { name: 'a', keys: [alice], products: [['DISALLOW', '*']] },
        { name: 'b', keys: [bob], products: [['REQUIRE', 'missing']] },
      ]),
      owner,
    );
    const links = new Map([
      [linkFileName('a', alice.keyid), await signed(linkDoc('a', {}, { x: SHA('1') }), alice)],
      [linkFileName('b', bob.keyid), await signed(linkDoc('b'), bob)],
    ]);
    const verdict = await verify({ layout, layoutKeys: [owner.publicKey], links });
    expect(verdict.failures.map((f) => [f.code, f.step])).toEqual([
      ['RULE_DISALLOW', 'a'],
      ['RULE_REQUIRE', 'b'],
    ]);
  });

  it('substitutes parameters in rules', async () => {
    const layout = await signed(layoutDoc([{ name: 'build', keys: [alice], products: [['CREATE', '{FILE}'], ['DISALLOW', '*']] }]), owner);
    const links = new Map([[linkFileName('build', alice.keyid), await signed(linkDoc('build', {}, { 'app.tgz': SHA('1') }), alice)]]);
    const base = { layout, layoutKeys: [owner.publicKey], links };
    expect((await verify({ ...base, parameters: { FILE: 'app.tgz' } })).passed).toBe(true);
    expect((await verify({ ...base, parameters: { FILE: 'other' } })).failures.map((f) => f.code)).toEqual(['RULE_DISALLOW']);
    expect((await verify({ ...base, parameters: {} })).failures.map((f) => f.code)).toEqual(['FORMAT']);
  });

  describe('inspections where processes cannot run', () => {
    async function withInspection() {
      const doc = layoutDoc([{ name: 'build', keys: [alice], products: [['CREATE', 'app']] }], {
        inspect: [{ _type: 'inspection', name: 'check', run: ['check', 'app'], expected_materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']], expected_products: [] }],
      });
      return {
        layout: await signed(doc, owner),
        layoutKeys: [owner.publicKey],
        links: new Map([[linkFileName('build', alice.keyid), await signed(linkDoc('build', {}, { app: SHA('a') }), alice)]]),
      };
    }

    it('fails without a policy: nothing is silently skipped', async () => {
      const verdict = await verify(await withInspection());
      expect(verdict.failures).toEqual([expect.objectContaining({ code: 'INSPECTION' })]);
      expect(verdict.failures[0]!.message).toContain("'check'");
    });

    it("passes with an explicit 'skip', and says so in a warning", async () => {
      const verdict = await verify({ ...(await withInspection()), inspections: 'skip' });
      expect(verdict.passed).toBe(true);
      expect(verdict.warnings).toContainEqual(expect.objectContaining({ code: 'INSPECTIONS_SKIPPED' }));
    });

    it('uses pre-recorded inspection links, and applies their rules', async () => {
      const options = await withInspection();
      const good = new Map([['check.link', serializeEnvelope(createMetablock({ ...linkDoc('check', { app: SHA('a') }), byproducts: { 'return-value': 0 } }))]]);
      expect((await verify({ ...options, inspections: { links: good } })).passed).toBe(true);
      const bad = new Map([['check.link', serializeEnvelope(createMetablock({ ...linkDoc('check', { app: SHA('b') }), byproducts: { 'return-value': 0 } }))]]);
      expect((await verify({ ...options, inspections: { links: bad } })).failures).toEqual([expect.objectContaining({ code: 'RULE_DISALLOW', step: 'check', kind: 'inspection' })]);
      const failed = new Map([['check.link', serializeEnvelope(createMetablock({ ...linkDoc('check', { app: SHA('a') }), byproducts: { 'return-value': 3 } }))]]);
      expect((await verify({ ...options, inspections: { links: failed } })).failures).toEqual([expect.objectContaining({ code: 'INSPECTION', step: 'check' })]);
      expect((await verify({ ...options, inspections: { links: new Map() } })).failures).toEqual([expect.objectContaining({ code: 'INSPECTION', file: 'check.link' })]);
    });
  });

  it('verifies sublayouts recursively and refuses nesting beyond the limit', async () => {
    // Each level delegates step 'deep' to alice's sublayout, which delegates again, three times.
    const levels = 3;
    const links = new Map<string, Uint8Array>();
    let prefix = '';
    for (let i = 0; i < levels; i++) {
      const inner = i === levels - 1 ? layoutDoc([{ name: 'leaf', keys: [bob] }]) : layoutDoc([{ name: 'deep', keys: [alice] }]);
      links.set(`${prefix}${linkFileName('deep', alice.keyid)}`, await signed(inner, alice));
      prefix += `${sublayoutDirName('deep', alice.keyid)}/`;
    }
    links.set(`${prefix}${linkFileName('leaf', bob.keyid)}`, await signed(linkDoc('leaf', {}, { out: SHA('c') }), bob));
    const layout = await signed(layoutDoc([{ name: 'deep', keys: [alice], products: [['CREATE', 'out'], ['DISALLOW', '*']] }]), owner);
    const options = { layout, layoutKeys: [owner.publicKey], links };
    expect((await verify(options)).failures).toEqual([]);
    const limited = await verify({ ...options, maxSublayoutDepth: 2 });
    expect(limited.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', layout: ['deep', 'deep'] }));
  });

  it('refuses metadata of the wrong type in place of a layout', async () => {
    const verdict = await verify({ layout: await signed(linkDoc('x'), owner), layoutKeys: [owner.publicKey], links: new Map() });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'FORMAT' })]);
  });

  it('turns unreadable metadata into failures, never exceptions', async () => {
    const options = await chain();
    const links = new Map(options.links as Map<string, Uint8Array>);
    links.set(linkFileName('build', alice.keyid), new TextEncoder().encode('{"signed": {"a": 1, "a": 2}, "signatures": []}'));
    const verdict = await verify({ ...options, links });
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'JSON', step: 'build', file: linkFileName('build', alice.keyid) }));
    const garbage = await verify({ ...options, layout: '{"signed"' });
    expect(garbage.failures).toEqual([expect.objectContaining({ code: 'JSON' })]);
  });
});
