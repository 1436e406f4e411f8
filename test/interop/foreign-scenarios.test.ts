/**
 * Every complete scenario of the foreign vectors' README, verified here, with our verdict beside upstream's
 * and Debian in-toto 1.3.1's (from expected.json). Files are read in place from IN_TOTO_FOREIGN_VECTORS; an
 * inspection runs in a scratch directory holding copies of the artifacts it needs. The clock is set a day
 * before each layout's expiry, as upstream's tests ran before it; the expired ones are also run as they are.
 *
 * Also here, because they need the vectors' keys and certificates: in-toto-golang's certificate functionaries
 * (`cert_constraints`), enforced on golang's own signed demo.layout, and a python >= 2 style (K3) signature.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { createDsse, createMetablock, readEnvelope, serializeEnvelope, signEnvelope, type Envelope } from '../../bindings/metadata/envelope.js';
import { nodeInspectionRunner } from '../../bindings/record/inspect-node.js';
import { type PrivateKey, type PublicKey, keyIds, loadPublicKey } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { signMetadata } from '../../bindings/record/link.js';
import { gpgExportKey, gpgSigner } from '../../bindings/keys/openpgp/gpg-node.js';
import { gpgKeyToDict, readExportedKeys } from '../../bindings/keys/openpgp/key.js';
import { verify, type InspectionRunner, type Verdict } from '../../bindings/verify/verify.js';
import { foreignVectors } from './vectors.js';

const FOREIGN = foreignVectors();
const read = (path: string): Buffer => readFileSync(join(FOREIGN, path));
const GO = 'in-toto-golang/test/data';
const PY = 'in-toto-python/tests';
const RS = 'in-toto-rs/tests';

interface ScenarioExpectation {
  id: string;
  upstream_verdict: string;
  reference_1_3_1_verdict: string;
  expires?: string;
}
const expected = JSON.parse(read('expected.json').toString()) as { scenarios: ScenarioExpectation[] };
const scenario = (id: string): ScenarioExpectation => {
  const found = expected.scenarios.find((s) => s.id === id);
  if (!found) throw new Error(`expected.json has no scenario ${id}`);
  return found;
};

const scratch: string[] = [];
beforeAll(async () => {
  await initEngine();
});
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A scratch working directory holding copies of the given vector files (inspections run and write there). */
function workdir(files: readonly string[], extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'in-toto-foreign-'));
  scratch.push(dir);
  for (const file of files) copyFileSync(join(FOREIGN, file), join(dir, basename(file)));
  for (const [name, text] of Object.entries(extra)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Link files read in place, under the names verification looks them up by. */
function links(entries: Record<string, string>): Map<string, Uint8Array> {
  return new Map(Object.entries(entries).map(([name, path]) => [name, new Uint8Array(read(path))]));
}

const dayBefore = (date: string): Date => new Date(Date.parse(date) - 24 * 3600 * 1000);
const codes = (verdict: Verdict): string[] => verdict.failures.map((f) => f.code);
const explain = (verdict: Verdict): string => JSON.stringify(verdict.failures.map((f) => `${f.code}: ${f.message}`), null, 1);

const goAlice = (): PublicKey => loadPublicKey(read(`${GO}/alice.pub`));
const goAlicePrivate = (): Promise<PrivateKey> => loadPrivateKey(read(`${GO}/alice`));
const pyAlice = (): PublicKey => loadPublicKey(read(`${PY}/demo_files/alice.pub`));
const pyAlicePrivate = (): Promise<PrivateKey> => loadPrivateKey(read(`${PY}/demo_files/alice`));

/** A metablock's `signed` part changed by `edit` and signed anew by `signers`, as file bytes. */
async function resign(file: string, signers: PrivateKey[], edit: (signed: Record<string, unknown>) => void = () => {}): Promise<Uint8Array> {
  const envelope = readEnvelope(read(file));
  const signed = structuredClone(envelope.signed);
  edit(signed);
  let out: Envelope = envelope.kind === 'dsse' ? createDsse(signed) : createMetablock(signed);
  for (const key of signers) out = await signEnvelope(out, key);
  return serializeEnvelope(out);
}

/** Our verdicts, one line per scenario, for the report at the end. */
const table: string[] = [];
function record(id: string, ours: Verdict, note = ''): void {
  const e = expected.scenarios.find((s) => s.id === id);
  const verdict = ours.passed ? 'PASS' : `FAIL [${[...new Set(codes(ours))].join(', ')}]`;
  table.push(`${id.padEnd(28)} ours: ${verdict.padEnd(34)} upstream: ${(e?.upstream_verdict ?? '-').slice(0, 40).padEnd(40)} 1.3.1: ${(e?.reference_1_3_1_verdict ?? '-').slice(0, 30)}${note ? `  (${note})` : ''}`);
}
afterAll(() => {
  if (table.length > 0) console.log(`foreign scenarios:\n  ${table.join('\n  ')}`);
});

describe('in-toto-golang scenarios', () => {
  const goLinks = { 'write-code.b7d643de.link': `${GO}/write-code.b7d643de.link`, 'package.d3ffd108.link': `${GO}/package.d3ffd108.link` };

  it('go-demo: the metablock layout with golang-only fields (rootcas, intermediatecas, cert_constraints) passes, as in golang', async () => {
    const s = scenario('go-demo');
    const run = nodeInspectionRunner({ cwd: workdir([`${GO}/foo.tar.gz`]) });
    const verdict = await verify({ layout: read(`${GO}/demo.layout`), layoutKeys: [goAlice()], links: links(goLinks), inspections: { run }, now: dayBefore(s.expires!) });
    record('go-demo', verdict, '1.3.1 drops the golang fields before checking the signature');
    expect(verdict.passed, explain(verdict)).toBe(true);
    expect(s.upstream_verdict).toMatch(/^PASS/);
    expect(s.reference_1_3_1_verdict).toMatch(/^FAIL/);
    // The layout's links can also be found in the vectors' own directory, as golang reads them.
    const fromDirectory = await verify({
      layout: read(`${GO}/demo.layout`), layoutKeys: [goAlice()], links: { directory: join(FOREIGN, GO) }, inspections: { run }, now: dayBefore(s.expires!),
    });
    expect(fromDirectory.passed, explain(fromDirectory)).toBe(true);
  });

  it('go-dsse: the DSSE layout with metablock links passes', async () => {
    const s = scenario('go-dsse');
    const run = nodeInspectionRunner({ cwd: workdir([`${GO}/foo.tar.gz`]) });
    const verdict = await verify({ layout: read(`${GO}/demo.dsse.layout`), layoutKeys: [goAlice()], links: links(goLinks), inspections: { run }, now: dayBefore(s.expires!) });
    record('go-dsse', verdict, '1.3.1 reads no DSSE');
    expect(verdict.passed, explain(verdict)).toBe(true);
  });

  it('go-dsse-only: DSSE layout and DSSE links pass', async () => {
    const s = scenario('go-dsse-only');
    const verdict = await verify({
      layout: read(`${GO}/dsse-only.root.layout`),
      layoutKeys: [goAlice()],
      links: links({
        'clone-dsse.776a00e2.link': `${GO}/clone-dsse.776a00e2.link`,
        'update-version-dsse.776a00e2.link': `${GO}/update-version-dsse.776a00e2.link`,
        'package-dsse.2f89b927.link': `${GO}/package-dsse.2f89b927.link`,
      }),
      now: dayBefore(s.expires!),
    });
    record('go-dsse-only', verdict, '1.3.1 reads no DSSE');
    expect(verdict.passed, explain(verdict)).toBe(true);
  });

  it('go-sublayout: super.layout as it is fails (unsigned, expired); re-dated and signed by alice, its sublayout passes', async () => {
    const sub = {
      'sub_layout.70ca5750.link': `${GO}/sub_layout.70ca5750.link`,
      'sub_layout.70ca5750/write-code.b7d643de.link': `${GO}/write-code.b7d643de.link`,
      'sub_layout.70ca5750/package.d3ffd108.link': `${GO}/package.d3ffd108.link`,
    };
    const run = nodeInspectionRunner({ cwd: workdir([`${GO}/foo.tar.gz`]) });
    const asIs = await verify({ layout: read(`${GO}/super.layout`), layoutKeys: [goAlice()], links: links(sub), inspections: { run } });
    record('go-sublayout', asIs, 'as it is');
    expect(asIs.passed).toBe(false);
    expect(codes(asIs)).toContain('SIGNATURE');
    expect(scenario('go-sublayout').reference_1_3_1_verdict).toMatch(/FAIL rc=1 'No signature found/);

    const signed = await resign(`${GO}/super.layout`, [await goAlicePrivate()], (l) => void (l.expires = '2030-01-01T00:00:00Z'));
    const verdict = await verify({ layout: signed, layoutKeys: [goAlice()], links: links(sub), inspections: { run }, now: new Date('2029-12-31T00:00:00Z') });
    record('go-sublayout (diagnostic)', verdict, 're-dated 2030-01-01 and signed by golang alice, as the README diagnostic');
    expect(verdict.passed, explain(verdict)).toBe(true);
    // Not re-dated: expired, the only failure.
    const stale = await resign(`${GO}/super.layout`, [await goAlicePrivate()]);
    const expired = await verify({ layout: stale, layoutKeys: [goAlice()], links: links(sub), inspections: { run }, now: new Date('2026-11-25T00:00:00Z') });
    expect(codes(expired)).toEqual(['LAYOUT_EXPIRED']);
  });

  it('runs go-demo through in-toto-verify with the files in place', () => {
    const cli = resolve('dist/cli/in-toto-verify.js');
    const cwd = workdir([`${GO}/foo.tar.gz`]);
    const run = spawnSync(process.execPath, [cli, '-l', join(FOREIGN, GO, 'demo.layout'), '-k', join(FOREIGN, GO, 'alice.pub'), '--link-dir', join(FOREIGN, GO)], { cwd, encoding: 'utf8' });
    // The real clock: the layout expires on 2030-11-18.
    if (Date.now() < Date.parse('2030-11-18T16:06:36Z')) expect(run.status, run.stderr).toBe(0);
    else expect(run.stderr).toMatch(/LAYOUT_EXPIRED/);
  });
});

describe('in-toto-rs scenarios', () => {
  const rsLinks = () =>
    links({
      'clone.776a00e2.link': `${RS}/test_verifylib/links/clone.776a00e2.link`,
      'update-version.776a00e2.link': `${RS}/test_verifylib/links/update-version.776a00e2.link`,
      'package.2f89b927.link': `${RS}/test_verifylib/links/package.2f89b927.link`,
    });
  const layoutKey = () => loadPublicKey(read(`${RS}/test_verifylib/workdir/alice.pub`));

  it('rs-demo: passes before its expiry; today it fails with exactly "layout expired", as in-toto-rs accepts', async () => {
    const s = scenario('rs-demo');
    // The inspection's rules end in DISALLOW *: the working directory holds the tarball only.
    const before = await verify({
      layout: read(`${RS}/test_verifylib/workdir/root.layout`), layoutKeys: [layoutKey()], links: rsLinks(),
      inspections: { run: nodeInspectionRunner({ cwd: workdir([`${RS}/test_verifylib/workdir/demo-project.tar.gz`]) }) },
      now: new Date('2022-12-01T00:00:00Z'),
    });
    record('rs-demo (clock 2022-12-01)', before);
    expect(before.passed, explain(before)).toBe(true);
    const today = await verify({
      layout: read(`${RS}/test_verifylib/workdir/root.layout`), layoutKeys: [layoutKey()], links: rsLinks(),
      inspections: { run: nodeInspectionRunner({ cwd: workdir([`${RS}/test_verifylib/workdir/demo-project.tar.gz`]) }) },
      now: new Date('2026-11-25T00:00:00Z'),
    });
    record('rs-demo', today, 'as it is, clock 2026-11-25');
    expect(codes(today)).toEqual(['LAYOUT_EXPIRED']);
    expect(s.reference_1_3_1_verdict).toMatch(/LayoutExpiredError/);
  });

  it('rs-test-metadata: the parse-only layout fails its signature (negative vector)', async () => {
    const owner = (await loadPrivateKey(read(`${RS}/test_metadata/owner.der`))).publicKey;
    const verdict = await verify({ layout: read(`${RS}/test_metadata/demo.layout`), layoutKeys: [owner], links: new Map(), inspections: 'skip' });
    record('rs-test-metadata', verdict);
    expect(verdict.passed).toBe(false);
    expect(codes(verdict)).toEqual(['SIGNATURE']);
    // The signature names the owner's K2 id: we find it, and it does not verify.
    expect(verdict.failures[0]!.message).toMatch(/does not verify/);
  });
});

describe('in-toto python scenarios', () => {
  const pyLinks = (dir: string) =>
    links({ 'write-code.776a00e2.link': `${PY}/${dir}/write-code.776a00e2.link`, 'package.2f89b927.link': `${PY}/${dir}/package.2f89b927.link` });
  const EXPIRES = '2030-01-01T00:00:00Z';
  const NOW = new Date('2026-11-25T00:00:00Z');
  // The inspection runs `python ./scripts/tar xfz foo.tar.gz`; upstream's helper is code and was not collected,
  // so the scratch directory gets a minimal one, run with python3.
  const TAR_HELPER = 'import sys, tarfile\nwith tarfile.open(sys.argv[2]) as t:\n    t.extractall(".")\n';
  const pythonRunner = (cwd: string): InspectionRunner => {
    const run = nodeInspectionRunner({ cwd });
    return (inspection) => run(inspection.run[0] === 'python' ? { ...inspection, run: ['python3', ...inspection.run.slice(1)] } : inspection);
  };
  const pyWorkdir = () => workdir([`${PY}/demo_files/foo.tar.gz`], { 'scripts/tar': TAR_HELPER });
  const dated = (l: Record<string, unknown>) => void (l.expires = EXPIRES);

  it('py-demo: the template, signed by alice (then alice and bob, alice and danny), passes', async () => {
    const s = scenario('py-demo');
    expect(s.reference_1_3_1_verdict).toMatch(/PASS/);
    const template = `${PY}/demo_files/demo.layout.template`;
    const bob = await loadPrivateKey(read(`${PY}/demo_files/bob`));
    const danny = await loadPrivateKey(read(`${PY}/demo_files/danny`));
    const cases: [string, PrivateKey[], PublicKey[]][] = [
      ['alice', [await pyAlicePrivate()], [pyAlice()]],
      ['alice+bob', [await pyAlicePrivate(), bob], [pyAlice(), loadPublicKey(read(`${PY}/demo_files/bob.pub`))]],
      ['alice+danny', [await pyAlicePrivate(), danny], [pyAlice(), loadPublicKey(read(`${PY}/demo_files/danny.pub`), { keyType: 'ed25519' })]],
    ];
    for (const [name, signers, layoutKeys] of cases) {
      const verdict = await verify({
        layout: await resign(template, signers, dated), layoutKeys, links: pyLinks('demo_files'), inspections: { run: pythonRunner(pyWorkdir()) }, now: NOW,
      });
      record(`py-demo (${name})`, verdict, 'signed here, expires 2030-01-01');
      expect(verdict.passed, `${name}: ${explain(verdict)}`).toBe(true);
    }
    // The template as it is: unsigned and without expires.
    const asIs = await verify({ layout: read(template), layoutKeys: [pyAlice()], links: pyLinks('demo_files'), inspections: 'skip', now: NOW });
    record('py-demo', asIs, 'the unsigned template as it is');
    expect(asIs.passed).toBe(false);
  });

  it('py-dsse: the DSSE template, signed by alice, passes with the DSSE links', async () => {
    const verdict = await verify({
      layout: await resign(`${PY}/demo_dsse_files/demo.layout.template`, [await pyAlicePrivate()], dated),
      layoutKeys: [pyAlice()],
      links: pyLinks('demo_dsse_files'),
      inspections: { run: pythonRunner(pyWorkdir()) },
      now: NOW,
    });
    record('py-dsse', verdict, 'signed here, expires 2030-01-01');
    expect(verdict.passed, explain(verdict)).toBe(true);
  });

  it('python >= 2 signs with K3 ids: a public key finds its signature under any of its ids, in verify() and in-toto-verify', async () => {
    const key = pyAlice();
    const k3 = keyIds(key).pemWithNewline;
    expect(k3).not.toBe(key.keyid);
    const layout = JSON.parse(new TextDecoder().decode(await resign(`${PY}/demo_files/demo.layout.template`, [await pyAlicePrivate()], dated)));
    layout.signatures[0].keyid = k3; // the id is not signed: this is the layout python >= 2 would write
    const bytes = new TextEncoder().encode(JSON.stringify(layout));
    const cwd = pyWorkdir();
    const verdict = await verify({ layout: bytes, layoutKeys: [key], links: pyLinks('demo_files'), inspections: { run: pythonRunner(cwd) }, now: NOW });
    expect(verdict.passed, explain(verdict)).toBe(true);
    // The CLI: links from the vectors in place; the inspection needs `python` (upstream's helper, run with python3 here).
    const dir = workdir([`${PY}/demo_files/foo.tar.gz`], { 'layout.json': JSON.stringify(layout), 'scripts/tar': TAR_HELPER, 'bin/python': '#!/bin/sh\nexec python3 "$@"\n' });
    spawnSync('chmod', ['+x', join(dir, 'bin/python')]);
    const run = spawnSync(process.execPath, [resolve('dist/cli/in-toto-verify.js'), '-l', 'layout.json', '-k', join(FOREIGN, PY, 'demo_files/alice.pub'), '--link-dir', join(FOREIGN, PY, 'demo_files')], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
    });
    expect(run.status, run.stderr).toBe(0);
  });

  describe('py-gpg: OpenPGP keys (the gpg keyring of python\'s tests)', () => {
    // GnuPG 2.2 migrates the 1.x keyring on first use: work on a private copy (mode 700), never in place.
    let home: string;
    const OWNER = '8465a1e2e0fb2b40adb2478e18fb3f537e0c8a17';
    beforeAll(() => {
      home = mkdtempSync(join(tmpdir(), 'itg-'));
      scratch.push(home);
      for (const file of ['pubring.gpg', 'secring.gpg', 'trustdb.gpg']) copyFileSync(join(FOREIGN, `${PY}/gpg_keyrings/rsa/${file}`), join(home, file));
    });
    afterAll(() => {
      spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    });
    const gpgLinks = () => links({ 'write-code.8288ef56.link': `${PY}/demo_files_gpg/write-code.8288ef56.link`, 'package.7b3abb26.link': `${PY}/demo_files_gpg/package.7b3abb26.link` });

    it('signed with gpg (which picks the signing subkey c5a0abe6...), it passes here and in the reference', async () => {
      const s = scenario('py-gpg');
      expect(s.reference_1_3_1_verdict).toMatch(/PASS/);
      const template = readEnvelope(read(`${PY}/demo_files_gpg/demo.layout.template`));
      const signed = await signMetadata({ ...template.signed, expires: EXPIRES }, [gpgSigner(OWNER, home)]);
      expect(signed.signatures.map((sig) => sig.keyid)).toEqual(['c5a0abe6ec19d0d65f85e2c39be9df5131d924e9']);
      const owner = await gpgExportKey(OWNER, home);
      const inspections = { run: nodeInspectionRunner({ cwd: workdir([`${PY}/demo_files_gpg/foo.tar.gz`]) }) };
      const verdict = await verify({ layout: serializeEnvelope(signed), layoutKeys: [owner], links: gpgLinks(), inspections, now: dayBefore(EXPIRES) });
      record('py-gpg', verdict, 'signed here through gpg');
      expect(verdict.passed, explain(verdict)).toBe(true);
      // The same files, verified by the reference.
      const dir = workdir([`${PY}/demo_files_gpg/foo.tar.gz`, `${PY}/demo_files_gpg/write-code.8288ef56.link`, `${PY}/demo_files_gpg/package.7b3abb26.link`]);
      writeFileSync(join(dir, 'root.layout'), serializeEnvelope(signed));
      const ref = spawnSync('/usr/bin/in-toto-verify', ['-l', 'root.layout', '-g', OWNER, '--gpg-home', home], { cwd: dir, encoding: 'utf8' });
      expect(ref.status, ref.stderr).toBe(0);
    });

    it('a changed link fails with the link named, here and in the reference', async () => {
      const template = readEnvelope(read(`${PY}/demo_files_gpg/demo.layout.template`));
      const signed = await signMetadata({ ...template.signed, expires: EXPIRES }, [gpgSigner(OWNER, home)]);
      const changed = gpgLinks();
      const link = JSON.parse(new TextDecoder().decode(changed.get('package.7b3abb26.link')!));
      link.signed.command = ['tar', 'zcvf', 'other.tar.gz', 'foo.py'];
      changed.set('package.7b3abb26.link', new TextEncoder().encode(JSON.stringify(link)));
      const verdict = await verify({ layout: serializeEnvelope(signed), layoutKeys: [await gpgExportKey(OWNER, home)], links: changed, inspections: 'skip', now: dayBefore(EXPIRES) });
      expect(verdict.passed).toBe(false);
      expect(verdict.failures.find((f) => f.code === 'SIGNATURE')?.message).toMatch(/package\.7b3abb26\.link.*OpenPGP signature by key 7b3abb26.* does not verify/);
      const dir = workdir([`${PY}/demo_files_gpg/write-code.8288ef56.link`]);
      writeFileSync(join(dir, 'root.layout'), serializeEnvelope(signed));
      writeFileSync(join(dir, 'package.7b3abb26.link'), changed.get('package.7b3abb26.link')!);
      const ref = spawnSync('/usr/bin/in-toto-verify', ['-l', 'root.layout', '-g', OWNER, '--gpg-home', home], { cwd: dir, encoding: 'utf8' });
      expect(ref.status).toBe(1);
    });

    it("the keyring's revoked key is refused, its expired key's signatures are refused, its subkeys count for the master", async () => {
      await expect(gpgExportKey('f557d0ff451def45372591429ea70bd13d883381', home)).rejects.toMatchObject({ code: 'KEY', message: expect.stringMatching(/revoked since 2019-03-20T\d\d:\d\d:\d\dZ/) });
      const expired = await gpgExportKey('e8ac80c924116dabb51d4b987cb07d6d2c199c7c', home);
      expect(expired.validityPeriod).toBeGreaterThan(0);
      const multi = await gpgExportKey('40e692c3ae03f6b88dff95d0d2c9fe930766998d', home);
      expect([...multi.subkeys.keys()].sort()).toEqual(['35830aa342b9fea0178876b02b25647ff0ef59fe', '732d722578f71a9ec967a64bfead922c91eb7351']);
      // The encryption subkey of the layout key is not a signing key: asked for by id, it is refused, saying why.
      await expect(gpgExportKey('6a112fd3390b2e53afc2e57f8fc8e12099aeceea', home)).rejects.toMatchObject({ code: 'KEY', message: expect.stringMatching(/signing flag/) });
    });

    it('the keyring file itself (pubring.gpg, trust packets and all) reads as gpg --export does', async () => {
      const ring = await readExportedKeys(read(`${PY}/gpg_keyrings/rsa/pubring.gpg`));
      const fromRing = ring.find((k) => k.fingerprint === OWNER)!.key!;
      expect(gpgKeyToDict(fromRing)).toEqual(gpgKeyToDict(await gpgExportKey(OWNER, home)));
      expect(ring.find((k) => k.fingerprint === 'f557d0ff451def45372591429ea70bd13d883381')?.refused).toMatch(/revoked/);
    });
  });
});

describe("in-toto-golang's certificate functionaries (cert_constraints), enforced", () => {
  const expires = '2030-11-18T16:06:36Z';
  const NOW = dayBefore(expires);
  const leafCert = () => read(`${GO}/example.com.write-code.cert.pem`).toString();
  const leafKey = () => loadPrivateKey(read(`${GO}/example.com.write-code.key.pem`));

  /** golang's write-code link, signed by the write-code certificate's key, the certificate in the signature. */
  async function certLink(opts: { cert?: string; key?: PrivateKey; name?: string } = {}): Promise<[string, Uint8Array]> {
    const key = opts.key ?? (await leafKey());
    const envelope = await signEnvelope(createMetablock(readEnvelope(read(`${GO}/write-code.b7d643de.link`)).signed), key);
    const signature = { ...envelope.signatures[0]!, cert: opts.cert ?? leafCert() };
    const bytes = serializeEnvelope({ ...envelope, signatures: [signature] });
    return [opts.name ?? `write-code.${key.keyid.slice(0, 8)}.link`, bytes];
  }

  async function run(layout: Uint8Array | Buffer, writeCode: [string, Uint8Array][], now = NOW): Promise<Verdict> {
    const files = new Map<string, Uint8Array>([...writeCode, ['package.d3ffd108.link', new Uint8Array(read(`${GO}/package.d3ffd108.link`))]]);
    return verify({ layout, layoutKeys: [goAlice()], links: files, inspections: { run: nodeInspectionRunner({ cwd: workdir([`${GO}/foo.tar.gz`]) }) }, now });
  }
  const editLayout = async (edit: (l: Record<string, unknown>) => void) => resign(`${GO}/demo.layout`, [await goAlicePrivate()], edit);
  type Step = { cert_constraints?: Record<string, unknown>[] } & Record<string, unknown>;
  const constraint = (l: Record<string, unknown>) => (l.steps as Step[])[0]!.cert_constraints![0]!;

  it("accepts a link signed by a certificate that chains to the layout's root and meets write-code's constraint", async () => {
    const link = await certLink();
    // The leaf's key id is golang's (K1): the file is named by it, as golang names it.
    expect(link[0]).toBe('write-code.4979dea7.link');
    const verdict = await run(read(`${GO}/demo.layout`), [link]);
    record('go-demo (certificate functionary)', verdict, "golang's signed demo.layout, write-code signed by example.com's certificate");
    expect(verdict.passed, explain(verdict)).toBe(true);
  });

  it('refuses it where golang does, saying why', async () => {
    const cases: [string, Promise<Verdict>, RegExp][] = [
      ['no certificate in the signature', certLink({ cert: '' }).then((l) => run(read(`${GO}/demo.layout`), [l])), /carries no certificate/],
      ["a certificate that is not the signer's", certLink({ cert: read(`${GO}/example.com.intermediate.cert.pem`).toString() }).then((l) => run(read(`${GO}/demo.layout`), [l])), /certificate holds key/],
      ['another common name', Promise.all([editLayout((l) => void (constraint(l).common_name = 'build.example.com')), certLink()]).then(([layout, l]) => run(layout, [l])), /common name "write-code.example.com" is not among "build.example.com"/],
      ['a URI the constraint does not list', Promise.all([editLayout((l) => void (constraint(l).uris = [])), certLink()]).then(([layout, l]) => run(layout, [l])), /expects no URI/],
      ['an organization it lacks', Promise.all([editLayout((l) => void (constraint(l).organizations = ['example', 'other'])), certLink()]).then(([layout, l]) => run(layout, [l])), /organization "other" required/],
      ['roots other than the layout\'s', Promise.all([editLayout((l) => void (constraint(l).roots = ['ab'.repeat(32)])), certLink()]).then(([layout, l]) => run(layout, [l])), /root "da6360ef/],
      ['no intermediate to chain through', Promise.all([editLayout((l) => void (l.intermediatecas = {})), certLink()]).then(([layout, l]) => run(layout, [l])), /not trusted: no root or intermediate is named/],
      ['a step without constraints', Promise.all([editLayout((l) => void delete (l.steps as Step[])[0]!.cert_constraints), certLink()]).then(([layout, l]) => run(layout, [l])), /LINK_MISSING|needs links/],
      [
        'a certificate expired at the verification time',
        Promise.all([editLayout((l) => void (l.expires = '2035-01-01T00:00:00Z')), certLink()]).then(([layout, l]) => run(layout, [l], new Date('2032-01-01T00:00:00Z'))),
        /expired at 2031-08-29/,
      ],
    ];
    for (const [name, pending, why] of cases) {
      const verdict = await pending;
      expect(verdict.passed, name).toBe(false);
      expect(verdict.failures.map((f) => `${f.code}: ${f.message}`).join('\n'), name).toMatch(why);
    }
  });

  it("accepts '*' roots, and the constraint list's second entry when the first fails", async () => {
    const layout = await editLayout((l) => {
      const c = constraint(l);
      (l.steps as Step[])[0]!.cert_constraints = [{ ...c, common_name: 'nobody' }, { ...c, roots: ['*'] }];
    });
    const verdict = await run(layout, [await certLink()]);
    expect(verdict.passed, explain(verdict)).toBe(true);
  });

  it('refuses a certificate from another CA with the same names, made here', async () => {
    const dir = workdir([]);
    const made = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '30',
      '-subj', '/CN=write-code.example.com/O=example', '-addext', 'subjectAltName=critical,URI:spiffe://example.com/write-code',
    ], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const key = await loadPrivateKey(readFileSync(join(dir, 'key.pem')));
    const verdict = await run(read(`${GO}/demo.layout`), [await certLink({ key, cert: readFileSync(join(dir, 'cert.pem'), 'utf8') })], new Date());
    expect(verdict.passed).toBe(false);
    expect(explain(verdict)).toMatch(/is not trusted/);
  });

  it('refuses, naming them, layout fields it does not know, and constraint fields golang does not define', async () => {
    const unknown = await verify({
      layout: await editLayout((l) => void (l.signer_policy = 'anyone')), layoutKeys: [goAlice()], links: new Map(), inspections: 'skip', now: NOW,
    });
    expect(codes(unknown)).toEqual(['FORMAT']);
    expect(unknown.failures[0]!.message).toMatch(/signer_policy/);
    const inStep = await verify({
      layout: await editLayout((l) => void (constraint(l).valid_for = 'ever')), layoutKeys: [goAlice()], links: new Map(), inspections: 'skip', now: NOW,
    });
    expect(codes(inStep)).toEqual(['FORMAT']);
    expect(inStep.failures[0]!.message).toMatch(/valid_for/);
    // A root certificate listed under an id that is not its key's.
    const wrongId = await verify({
      layout: await editLayout((l) => {
        const roots = l.rootcas as Record<string, unknown>;
        l.rootcas = { ['ab'.repeat(32)]: { ...(Object.values(roots)[0] as object), keyid: 'ab'.repeat(32) } };
      }),
      layoutKeys: [goAlice()], links: new Map(), inspections: 'skip', now: NOW,
    });
    expect(codes(wrongId)).toEqual(['KEY']);
  });
});
