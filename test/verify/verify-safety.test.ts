/**
 * Nothing runs and nothing is re-read once verification has failed (issue #14): inspections run only when every
 * check before them passed (asserted on a marker file the inspection would create, beside the reference's verdict
 * on the same directory); a runner learns where an inspection comes from and a caller can refuse a functionary's;
 * pre-recorded inspection links get a step link's checks; every valid link of a step must agree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { initEngine } from '../../bindings/engine.js';
import { createMetablock, serializeEnvelope, signEnvelope } from '../../bindings/metadata/envelope.js';
import { nodeInspectionRunner } from '../../bindings/record/inspect-node.js';
import { computeKeyid, computeNewKeyid, keyToDict, loadPublicKey, type PrivateKey } from '../../bindings/keys/keys.js';
import { linkFileName, sublayoutDirName } from '../../bindings/verify/link-source.js';
import { verify, type InspectionOrigin, type Verdict, type VerifyOptions } from '../../bindings/verify/verify.js';
import { assertReferenceInstalled, makeTempDir } from '../helpers/reference.js';
import { makeKey, referenceRun, referenceVerify, write, writeLayout, type KeyFile } from '../helpers/scenario.js';

const CLI = fileURLToPath(new URL('../../dist/cli/in-toto-verify.js', import.meta.url));
const MARKER = 'inspection-ran';
const TOUCH = { name: 'touch', run: ['touch', MARKER], expected_materials: [], expected_products: [['ALLOW', '*']] };
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('no inspection runs unless everything before it passed (ours and the reference, same directory)', () => {
  let owner: KeyFile;
  let alice: KeyFile;
  let bob: KeyFile;
  beforeAll(async () => {
    assertReferenceInstalled();
    await initEngine();
    const keys = tempDir('in-toto-safety-keys-');
    owner = makeKey(keys, 'owner', 'ed25519');
    alice = makeKey(keys, 'alice', 'ed25519');
    bob = makeKey(keys, 'bob', 'ed25519');
  });

  /** A one-step chain (alice creates app) with the marker inspection; `tamper` breaks it in one way. */
  function chain(tamper: 'none' | 'expired' | 'missing' | 'forged' | 'rule'): string {
    const dir = tempDir(`in-toto-safety-${tamper}-`);
    writeLayout(join(dir, 'root.layout'), {
      steps: [{ name: 'build', pubkeys: [alice], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] }],
      inspect: [TOUCH],
      signers: [owner],
      ...(tamper === 'expired' ? { expires: '2001-01-01T00:00:00Z' } : {}),
    });
    write(dir, 'app', 'v1');
    if (tamper === 'rule') write(dir, 'extra', 'not allowed');
    referenceRun(dir, 'build', alice, { products: tamper === 'rule' ? ['app', 'extra'] : ['app'] });
    const link = join(dir, linkFileName('build', alice.keyid));
    if (tamper === 'missing') rmSync(link);
    if (tamper === 'forged') {
      const doc = JSON.parse(readFileSync(link, 'utf8'));
      const sig = doc.signatures[0].sig as string;
      doc.signatures[0].sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
      writeFileSync(link, JSON.stringify(doc));
    }
    return dir;
  }

  async function ours(dir: string, options: Partial<VerifyOptions> = {}): Promise<Verdict> {
    return verify({
      layout: readFileSync(join(dir, 'root.layout')),
      layoutKeys: [loadPublicKey(readFileSync(`${owner.path}.pub`), { keyType: 'ed25519' })],
      links: { directory: dir },
      inspections: { run: nodeInspectionRunner({ cwd: dir }) },
      ...options,
    });
  }

  it('a chain that passes runs its inspection in both (the marker can appear)', async () => {
    const dir = chain('none');
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(0);
    expect(existsSync(join(dir, MARKER))).toBe(true);
    rmSync(join(dir, MARKER));
    const verdict = await ours(dir);
    expect(verdict.failures).toEqual([]);
    expect(existsSync(join(dir, MARKER))).toBe(true);
  });

  for (const [tamper, code] of [['expired', 'LAYOUT_EXPIRED'], ['missing', 'LINK_MISSING'], ['forged', 'SIGNATURE'], ['rule', 'RULE_DISALLOW']] as const) {
    it(`${tamper}: neither verifier runs the inspection; ours says why in INSPECTIONS_NOT_RUN`, async () => {
      const dir = chain(tamper);
      expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(1);
      expect(existsSync(join(dir, MARKER))).toBe(false);
      const verdict = await ours(dir);
      expect(verdict.passed).toBe(false);
      expect(verdict.failures.map((f) => f.code)).toContain(code);
      expect(existsSync(join(dir, MARKER))).toBe(false);
      const warning = verdict.warnings.find((w) => w.code === 'INSPECTIONS_NOT_RUN');
      expect(warning?.message).toMatch(new RegExp(`inspection 'touch' was not run: verification had already failed \\(\\d+ problems?: .*${code}`));
    });
  }

  it("a sublayout whose own step failed does not run the sublayout's inspection (nor the root's)", async () => {
    const dir = tempDir('in-toto-safety-sub-');
    writeLayout(join(dir, 'root.layout'), { steps: [{ name: 'pkg', pubkeys: [alice] }], inspect: [{ ...TOUCH, name: 'root-touch', run: ['touch', 'root-ran'] }], signers: [owner] });
    // alice's sublayout: bob builds, and alice inspects with the marker command.
    writeLayout(join(dir, linkFileName('pkg', alice.keyid)), {
      steps: [{ name: 'build', pubkeys: [bob], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] }],
      inspect: [TOUCH],
      signers: [alice],
    });
    const inner = join(dir, sublayoutDirName('pkg', alice.keyid));
    write(inner, 'app', 'v1');
    write(inner, 'evil', 'x');
    referenceRun(inner, 'build', bob, { products: ['app', 'evil'] });
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(1);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    expect(existsSync(join(dir, 'root-ran'))).toBe(false);
    const verdict = await ours(dir);
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'RULE_DISALLOW', layout: ['pkg'], artifacts: ['evil'] })]);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    expect(existsSync(join(dir, 'root-ran'))).toBe(false);
    expect(verdict.warnings.filter((w) => w.code === 'INSPECTIONS_NOT_RUN').map((w) => w.layout)).toEqual([['pkg'], []]);
  });

  it('in-toto-verify: a forged link and a swapped tarball never reach `tar xzf` (the case that extracted the attacker\'s file)', () => {
    const dir = tempDir('in-toto-safety-tar-');
    writeLayout(join(dir, 'root.layout'), {
      steps: [{ name: 'package', pubkeys: [alice], expected_products: [['CREATE', 'foo.tar.gz'], ['DISALLOW', '*']] }],
      inspect: [{ name: 'untar', run: ['tar', 'xzf', 'foo.tar.gz'], expected_materials: [['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ['ALLOW', '*']], expected_products: [['ALLOW', '*']] }],
      signers: [owner],
    });
    const work = join(dir, 'work');
    write(work, 'foo.py', 'print("hello")\n');
    spawnSync('tar', ['czf', join(dir, 'foo.tar.gz'), '-C', work, 'foo.py']);
    referenceRun(dir, 'package', alice, { products: ['foo.tar.gz'] });
    // The attacker swaps the tarball for one holding their file and re-signs the link with a key of their own.
    write(work, 'evil.py', 'print("evil")\n');
    spawnSync('tar', ['czf', join(dir, 'foo.tar.gz'), '-C', work, 'evil.py']);
    const link = join(dir, linkFileName('package', alice.keyid));
    const doc = JSON.parse(readFileSync(link, 'utf8'));
    doc.signed.products['foo.tar.gz'].sha256 = 'f'.repeat(64);
    writeFileSync(link, JSON.stringify(doc));
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(1);
    expect(existsSync(join(dir, 'evil.py'))).toBe(false);
    const result = spawnSync(process.execPath, [CLI, '--layout', 'root.layout', '--layout-keys', `${owner.path}.pub`, '--key-types', 'ed25519'], { cwd: dir, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[SIGNATURE]');
    expect(result.stderr).toContain('INSPECTIONS_NOT_RUN');
    expect(existsSync(join(dir, 'evil.py'))).toBe(false);
  });

  it("in-toto-verify --owner-inspections-only refuses a functionary's sublayout inspection; without it both tools run it", () => {
    const dir = tempDir('in-toto-safety-owner-');
    writeLayout(join(dir, 'root.layout'), { steps: [{ name: 'pkg', pubkeys: [alice] }], signers: [owner] });
    writeLayout(join(dir, linkFileName('pkg', alice.keyid)), { steps: [{ name: 'build', pubkeys: [bob] }], inspect: [TOUCH], signers: [alice] });
    write(join(dir, sublayoutDirName('pkg', alice.keyid)), 'README', 'the sublayout\'s links');
    referenceRun(join(dir, sublayoutDirName('pkg', alice.keyid)), 'build', bob, {});
    const args = ['--layout', 'root.layout', '--layout-keys', `${owner.path}.pub`, '--key-types', 'ed25519'];
    const refused = spawnSync(process.execPath, [CLI, ...args, '--owner-inspections-only'], { cwd: dir, encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('[INSPECTION_REFUSED]');
    expect(refused.stderr).toContain(alice.keyid);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    // The reference runs the functionary's command on the verifier's host; so do we by default.
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(0);
    expect(existsSync(join(dir, MARKER))).toBe(true);
    rmSync(join(dir, MARKER));
    const ran = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    expect(ran.status).toBe(0);
    expect(existsSync(join(dir, MARKER))).toBe(true);
  });

  it("a sublayout's inspection does not run when a later step of the enclosing layout lacks its link (found by review)", async () => {
    const dir = tempDir('in-toto-safety-order-');
    writeLayout(join(dir, 'root.layout'), { steps: [{ name: 'pkg', pubkeys: [alice] }, { name: 'other', pubkeys: [bob] }], signers: [owner] });
    writeLayout(join(dir, linkFileName('pkg', alice.keyid)), { steps: [{ name: 'build', pubkeys: [bob] }], inspect: [TOUCH], signers: [alice] });
    const inner = join(dir, sublayoutDirName('pkg', alice.keyid));
    write(inner, 'README', 'inner');
    referenceRun(inner, 'build', bob, {});
    // 'other' has no link: the reference checks every step's links before any sublayout, and so do we.
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(1);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    const verdict = await ours(dir);
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'LINK_MISSING', step: 'other' })]);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    expect(verdict.warnings).toContainEqual(expect.objectContaining({ code: 'INSPECTIONS_NOT_RUN', layout: ['pkg'] }));
  });

  it('one sublayout file at two nesting levels, each with its own link directory, is an ordinary chain (copy, symlink, map)', async () => {
    const dir = tempDir('in-toto-safety-twolevels-');
    writeLayout(join(dir, 'root.layout'), { steps: [{ name: 's', pubkeys: [alice], expected_products: [['ALLOW', '*']] }], signers: [owner] });
    const sub = join(dir, linkFileName('s', alice.keyid));
    writeLayout(sub, { steps: [{ name: 's', pubkeys: [alice], expected_products: [['ALLOW', '*']] }], signers: [alice] });
    const d1 = join(dir, sublayoutDirName('s', alice.keyid));
    const d2 = join(d1, sublayoutDirName('s', alice.keyid));
    write(d2, 'README', 'the innermost link');
    referenceRun(d2, 's', alice, {});
    symlinkSync(join('..', linkFileName('s', alice.keyid)), join(d1, linkFileName('s', alice.keyid)));
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(0);
    expect((await ours(dir)).failures).toEqual([]);
    const asStrings = new Map([
      [linkFileName('s', alice.keyid), readFileSync(sub, 'utf8')],
      [`${sublayoutDirName('s', alice.keyid)}/${linkFileName('s', alice.keyid)}`, readFileSync(sub, 'utf8')],
      [`${sublayoutDirName('s', alice.keyid)}/${sublayoutDirName('s', alice.keyid)}/${linkFileName('s', alice.keyid)}`, readFileSync(join(d2, linkFileName('s', alice.keyid)), 'utf8')],
    ]);
    expect((await ours(dir, { links: asStrings })).failures).toEqual([]);
  });

  it('an inspection that failed stops the ones after it (the reference raises at once)', async () => {
    const dir = tempDir('in-toto-safety-seq-');
    writeLayout(join(dir, 'root.layout'), {
      steps: [{ name: 'build', pubkeys: [alice] }],
      inspect: [{ ...TOUCH, name: 'fails', run: ['false'] }, TOUCH],
      signers: [owner],
    });
    referenceRun(dir, 'build', alice, {});
    expect(referenceVerify(dir, 'root.layout', [owner]).status).toBe(1);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    const verdict = await ours(dir);
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'INSPECTION', step: 'fails' })]);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    expect(verdict.warnings.find((w) => w.code === 'INSPECTIONS_NOT_RUN')?.message).toContain("'touch'");
  });
});

describe('where an inspection comes from', () => {
  let owner: PrivateKey;
  let alice: PrivateKey;
  let bob: PrivateKey;
  let carol: PrivateKey;
  beforeAll(async () => {
    await initEngine();
    [owner, alice, bob, carol] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
  });
  const signed = async (doc: Record<string, unknown>, key: PrivateKey) => serializeEnvelope(await signEnvelope(createMetablock(doc), key));
  const layoutDoc = (steps: { name: string; key: PrivateKey }[], inspect: unknown[] = []) => ({
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: '',
    keys: Object.fromEntries(steps.map((s) => [s.key.keyid, keyToDict(s.key.publicKey)])),
    steps: steps.map((s) => ({ _type: 'step', name: s.name, threshold: 1, pubkeys: [s.key.keyid], expected_command: [], expected_materials: [], expected_products: [] })),
    inspect,
  });
  const inspection = (name: string) => ({ _type: 'inspection', name, run: ['check', name], expected_materials: [], expected_products: [] });
  const link = (name: string, extra: Record<string, unknown> = {}) => ({ _type: 'link', name, command: [], materials: {}, products: {}, byproducts: {}, environment: {}, ...extra });

  /** Root (owner) inspects 'root-check'; step pkg is alice's sublayout (signed by `subSigner`) inspecting 'sub-check'. */
  async function nested(subSigner: PrivateKey) {
    const root = await signed(layoutDoc([{ name: 'pkg', key: subSigner }], [inspection('root-check')]), owner);
    const sub = await signed(layoutDoc([{ name: 'build', key: bob }], [inspection('sub-check')]), subSigner);
    const links = new Map([
      [linkFileName('pkg', subSigner.keyid), sub],
      [`${sublayoutDirName('pkg', subSigner.keyid)}/${linkFileName('build', bob.keyid)}`, await signed(link('build'), bob)],
    ]);
    const seen: { name: string; origin: InspectionOrigin }[] = [];
    const run = async (i: { name: string; run: readonly string[] }, origin: InspectionOrigin) => {
      seen.push({ name: i.name, origin });
      return { ...link(i.name), command: [...i.run], byproducts: { 'return-value': 0 } };
    };
    return { options: { layout: root, layoutKeys: [owner.publicKey], links, inspections: { run } } satisfies VerifyOptions, seen };
  }

  it("tells the runner the chain of steps and the signer's key ids, and whether the owner wrote it", async () => {
    const { options, seen } = await nested(alice);
    expect((await verify(options)).failures).toEqual([]);
    expect(seen).toEqual([
      { name: 'sub-check', origin: { layout: ['pkg'], signers: [alice.keyid], byOwner: false } },
      { name: 'root-check', origin: { layout: [], signers: [owner.keyid], byOwner: true } },
    ]);
  });

  it('a malformed sublayout of a later step fails as that step\'s link, before an earlier sublayout\'s inspection may run (found by review)', async () => {
    const { options, seen } = await nested(alice);
    const malformed = layoutDoc([{ name: 'y', key: carol }, { name: 'y', key: carol }]);
    const root = await signed(layoutDoc([{ name: 'pkg', key: alice }, { name: 'two', key: bob }], [inspection('root-check')]), owner);
    const links = new Map(options.links);
    links.set(linkFileName('two', bob.keyid), await signed(malformed, bob));
    const verdict = await verify({ ...options, layout: root, links });
    expect(seen).toEqual([]);
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'FORMAT', step: 'two', file: linkFileName('two', bob.keyid), layout: [] }));
  });

  it("a twin sublayout that fails is verified in file order, before a later functionary's sublayout runs its inspection (found by review)", async () => {
    const { computeKeyid: legacyOf, computeNewKeyid: modernOf } = await import('../../bindings/keys/keys.js');
    const legacy = legacyOf(alice.publicKey);
    const modern = modernOf(alice.publicKey);
    const dict = keyToDict(alice.publicKey);
    const step = (name: string, pubkeys: string[], threshold = 1) => ({ _type: 'step', name, threshold, pubkeys, expected_command: [], expected_materials: [], expected_products: [] });
    const root = await signed({ _type: 'layout', expires: '2100-01-01T00:00:00Z', readme: '', inspect: [],
      keys: { [legacy]: { ...dict, keyid: legacy }, [modern]: { ...dict, keyid: modern }, [bob.keyid]: keyToDict(bob.publicKey) },
      steps: [step('build', [legacy, modern, bob.keyid], 2)] }, owner);
    const byAlice = async (doc: Record<string, unknown>, keyid: string) => {
      const envelope = await signEnvelope(createMetablock(doc), alice);
      return serializeEnvelope({ ...envelope, signatures: envelope.signatures.map((s) => ({ ...s, keyid })) });
    };
    // alice's plain link under her legacy id; her second file (modern id) a sublayout whose inner link is missing;
    // bob's a sublayout that passes and has an inspection.
    const links = new Map([
      [linkFileName('build', legacy), await byAlice(link('build'), legacy)],
      [linkFileName('build', modern), await byAlice(layoutDoc([{ name: 'inner', key: carol }]), modern)],
      [linkFileName('build', bob.keyid), await signed(layoutDoc([{ name: 'leaf', key: carol }], [inspection('bob-check')]), bob)],
      [`${sublayoutDirName('build', bob.keyid)}/${linkFileName('leaf', carol.keyid)}`, await signed(link('leaf'), carol)],
    ]);
    const seen: string[] = [];
    const verdict = await verify({ layout: root, layoutKeys: [owner.publicKey], links, inspections: { run: async (i) => (seen.push(i.name), { ...link(i.name), command: [...i.run], byproducts: { 'return-value': 0 } }) } });
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'LINK_MISSING', step: 'inner', layout: ['build'] }));
    expect(seen).toEqual([]);
  });

  it("'refuse' runs no functionary's inspection and fails with INSPECTION_REFUSED; the owner's own sublayout still runs", async () => {
    const { options, seen } = await nested(alice);
    const verdict = await verify({ ...options, sublayoutInspections: 'refuse' });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'INSPECTION_REFUSED', layout: ['pkg'] })]);
    expect(verdict.failures[0]!.message).toContain(alice.keyid);
    // Nothing ran: not the refused one, and not the root's after the failure.
    expect(seen).toEqual([]);
    const byOwner = await nested(owner);
    expect((await verify({ ...byOwner.options, sublayoutInspections: 'refuse' })).failures).toEqual([]);
    expect(byOwner.seen.map((s) => [s.name, s.origin.byOwner])).toEqual([['sub-check', true], ['root-check', true]]);
  });

  it('pre-recorded inspection links get the checks of a step link: name, command, return value', async () => {
    const root = await signed(layoutDoc([{ name: 'build', key: alice }], [inspection('check')]), owner);
    const base = { layout: root, layoutKeys: [owner.publicKey], links: new Map([[linkFileName('build', alice.keyid), await signed(link('build'), alice)]]) };
    const withLink = async (doc: Record<string, unknown>) =>
      verify({ ...base, inspections: { links: new Map([['check.link', serializeEnvelope(createMetablock(doc))]]) } });
    const good = await withLink(link('check', { command: ['check', 'check'], byproducts: { 'return-value': 0 } }));
    expect(good.failures).toEqual([]);
    expect(good.warnings.filter((w) => w.code === 'COMMAND_MISMATCH')).toEqual([]);
    // Another inspection's link.
    const other = await withLink(link('other', { command: ['check', 'check'], byproducts: { 'return-value': 0 } }));
    expect(other.failures).toEqual([expect.objectContaining({ code: 'FORMAT', step: 'check', kind: 'inspection' })]);
    expect(other.failures[0]!.message).toContain("its link is for 'other'");
    // Another command: a warning, as for steps.
    const command = await withLink(link('check', { command: ['rm', '-rf', '/'], byproducts: { 'return-value': 0 } }));
    expect(command.failures).toEqual([]);
    expect(command.warnings).toContainEqual(expect.objectContaining({ code: 'COMMAND_MISMATCH', step: 'check' }));
    // No return value: the reference's BadReturnValueError.
    const silent = await withLink(link('check', { command: ['check', 'check'] }));
    expect(silent.failures).toEqual([expect.objectContaining({ code: 'INSPECTION', step: 'check' })]);
    expect(silent.failures[0]!.message).toContain('recorded no return value');
  });

  it("a runner's link without a return value fails too", async () => {
    const root = await signed(layoutDoc([{ name: 'build', key: alice }], [inspection('check')]), owner);
    const verdict = await verify({
      layout: root,
      layoutKeys: [owner.publicKey],
      links: new Map([[linkFileName('build', alice.keyid), await signed(link('build'), alice)]]),
      inspections: { run: async (i) => ({ ...link(i.name), command: [...i.run] }) as never },
    });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'INSPECTION', step: 'check' })]);
  });
});

describe('every authorized, valid link of a step must agree', () => {
  it('one key under two of its ids: a second, valid link recording other artifacts is LINKS_DISAGREE, not ignored', async () => {
    await initEngine();
    const [owner, alice, bob] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
    const legacy = computeKeyid(alice.publicKey);
    const modern = computeNewKeyid(alice.publicKey);
    expect(legacy).not.toBe(modern);
    const dict = keyToDict(alice.publicKey);
    const layout = serializeEnvelope(
      await signEnvelope(
        createMetablock({
          _type: 'layout',
          expires: '2100-01-01T00:00:00Z',
          readme: '',
          keys: { [legacy]: { ...dict, keyid: legacy }, [modern]: { ...dict, keyid: modern }, [bob.keyid]: keyToDict(bob.publicKey) },
          steps: [{ _type: 'step', name: 'build', threshold: 2, pubkeys: [legacy, modern, bob.keyid], expected_command: [], expected_materials: [], expected_products: [['ALLOW', '*']] }],
          inspect: [],
        }),
        owner,
      ),
    );
    const linkWith = (digest: string) => createMetablock({ _type: 'link', name: 'build', command: [], materials: {}, products: { app: { sha256: digest.repeat(64) } }, byproducts: {}, environment: {} });
    // alice's signature, under either of her ids (a signature covers `signed`, not the id beside it).
    const byAlice = async (digest: string, keyid: string) => {
      const envelope = await signEnvelope(linkWith(digest), alice);
      return serializeEnvelope({ ...envelope, signatures: envelope.signatures.map((s) => ({ ...s, keyid })) });
    };
    const links = new Map([
      [linkFileName('build', legacy), await byAlice('a', legacy)],
      [linkFileName('build', modern), await byAlice('b', modern)],
      [linkFileName('build', bob.keyid), serializeEnvelope(await signEnvelope(linkWith('a'), bob))],
    ]);
    const verdict = await verify({ layout, layoutKeys: [owner.publicKey], links });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'LINKS_DISAGREE', step: 'build', artifacts: ['app'] })]);
    expect(verdict.warnings.map((w) => w.code)).toContain('LINK_IGNORED');
    // The same twin agreeing: counted once, and the step passes on alice and bob.
    links.set(linkFileName('build', modern), await byAlice('a', modern));
    expect((await verify({ layout, layoutKeys: [owner.publicKey], links })).failures).toEqual([]);
    // A twin that is a sublayout must verify too (found by review: it was skipped, a false PASS).
    const sublayout = createMetablock({
      _type: 'layout',
      expires: '2100-01-01T00:00:00Z',
      readme: '',
      keys: { [bob.keyid]: keyToDict(bob.publicKey) },
      steps: [{ _type: 'step', name: 'inner', threshold: 1, pubkeys: [bob.keyid], expected_command: [], expected_materials: [], expected_products: [] }],
      inspect: [],
    });
    const signedSub = await signEnvelope(sublayout, alice);
    links.set(linkFileName('build', modern), serializeEnvelope({ ...signedSub, signatures: signedSub.signatures.map((s) => ({ ...s, keyid: modern })) }));
    const twinSub = await verify({ layout, layoutKeys: [owner.publicKey], links });
    expect(twinSub.passed).toBe(false);
    expect(twinSub.failures).toContainEqual(expect.objectContaining({ code: 'LINK_MISSING', step: 'inner', layout: ['build'] }));
  });
});
