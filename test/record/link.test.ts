/**
 * The recording library (bindings/record/link.ts) against the reference's runlib (in_toto 1.3.1): the same links from
 * in_toto_run, in_toto_record_start / _stop and in_toto_mock for the same tree, options and key, byte for byte
 * with an ed25519 key; atomic writes that leave nothing behind on failure; match-products and re-signing.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { readEnvelope, verifySignatureBy, type Envelope } from '../../bindings/metadata/envelope.js';
import { InTotoError } from '../../bindings/errors.js';
import type { PrivateKey } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import {
  matchProducts, mockStep, recordStart, recordStep, recordStop, resignMetadata, runStep, signMetadata, unfinishedLinkFileName, writeFileAtomic, writeMetadataFile,
  type StepOptions,
} from '../../bindings/record/link.js';
import { createLayout, layoutToJSON, parseLink, type LinkJSON } from '../../bindings/metadata/models.js';
import { assertReferenceInstalled, runPython } from '../helpers/reference.js';
import { makeKey, type KeyFile } from '../helpers/scenario.js';
import { tempTrees, type TreeNode } from '../helpers/tree.js';

/**
 * Calls one runlib function in `cwd` with keyword arguments (and the key, loaded by securesystemslib, as
 * `signing_key`); answers the link it made (`attr.asdict` of `signed`) or the exception it raised. What the
 * reference copies to its own stdout and stderr while recording streams is kept out of the answer.
 */
const REFERENCE_RUNLIB = `
import attr, io, json, os, sys
from securesystemslib import interface
from in_toto import runlib
req = json.load(sys.stdin)
os.chdir(req["cwd"])
kwargs = req["kwargs"]
if req.get("key"):
    kwargs["signing_key"] = interface.import_privatekey_from_file(req["key"]["path"], key_type=req["key"]["type"])
real = sys.stdout
sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
try:
    result = getattr(runlib, req["fn"])(*req["args"], **kwargs)
    answer = {"ok": attr.asdict(result.signed) if result is not None else None}
except Exception as e:
    answer = {"error": type(e).__name__, "message": str(e)}
sys.stdout, sys.stderr = real, sys.__stderr__
print(json.dumps(answer))
`;

type Answer = { ok: LinkJSON | null } | { error: string; message: string };

function reference(cwd: string, fn: string, args: unknown[], kwargs: Record<string, unknown>, key?: KeyFile): Answer {
  return JSON.parse(runPython(REFERENCE_RUNLIB, JSON.stringify({ cwd, fn, args, kwargs, key })).toString('utf8')) as Answer;
}

type Node = TreeNode;

const temps = tempTrees('in-toto-link-');
const tree = temps.tree;

/** Every name in a directory, hidden ones included, sorted: to see that a failure left nothing behind. */
const listing = (dir: string): string[] => readdirSync(dir).sort();

let keyDir: string;
let edKey: KeyFile;
let ed: PrivateKey;
let ecKey: KeyFile;
let ec: PrivateKey;

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  keyDir = temps.dir('in-toto-link-keys-');
  edKey = makeKey(keyDir, 'alice', 'ed25519');
  ecKey = makeKey(keyDir, 'dave', 'ecdsa');
  ed = await loadPrivateKey(readFileSync(edKey.path), { keyType: 'ed25519' });
  ec = await loadPrivateKey(readFileSync(ecKey.path), { keyType: 'ecdsa' });
});
afterAll(() => temps.removeAll());

const SOURCE_TREE: Record<string, Node> = {
  'src/main.c': 'int main(void) {\r\n  return 0;\r\n}\r\n',
  'src/old-mac.txt': 'line one\rline two\r',
  'src/mixed.txt': 'a\r\nb\nc\rd',
  'src/notes.pyc': 'excluded by default',
  'docs/guide.md': '# Guide\n',
  'docs/empty/': { dir: true },
  'link-to-docs': { link: 'docs' },
  'build.old~': 'backup',
};

describe('recordStep: the link in_toto_run makes', () => {
  it.each<[string, StepOptions, Record<string, unknown>]>([
    ['defaults, a command with its streams', { name: 'build', materials: ['.'], products: ['.'], command: ['sh', '-c', 'printf "built\\r\\n"; printf warn >&2; echo new > out.txt'], recordStreams: true }, { record_streams: true }],
    ['no command, line endings normalized', { name: 'review', materials: ['src', 'docs'], normalizeLineEndings: true }, { normalize_line_endings: true }],
    ['excludes, left-stripped paths, the environment', { name: 'pack', materials: ['src', 'docs'], products: ['src'], excludePatterns: ['*.txt'], lstripPaths: ['src/', 'docs/'], recordEnvironment: true }, { exclude_patterns: ['*.txt'], lstrip_paths: ['src/', 'docs/'], record_environment: true }],
    ['a base path', { name: 'sub', materials: ['.'], basePath: 'src' }, { base_path: 'src' }],
    ['streams not recorded, a failing command', { name: 'fail', products: ['.'], command: ['sh', '-c', 'echo hidden; exit 3'] }, {}],
  ])('%s', async (_label, options, kwargs) => {
    const cwd = tree(SOURCE_TREE);
    const theirs = reference(cwd, 'in_toto_run', [options.name, options.materials ?? null, options.products ?? null, options.command ?? []], kwargs);
    // The reference's command ran already: reset what it created so both see the same tree.
    rmSync(join(cwd, 'out.txt'), { force: true });
    expect(theirs).toHaveProperty('ok');
    const expected = (theirs as { ok: LinkJSON }).ok;
    expect(Object.keys({ ...expected.materials, ...expected.products }).length).toBeGreaterThan(0);
    const ours = await recordStep({ ...options, cwd });
    expect(ours).toEqual(expected);
  });

  it('normalizes CRLF and lone CR to LF before hashing, as the reference does', async () => {
    const cwd = tree({ 'crlf.txt': 'a\r\nb\r\n', 'lf.txt': 'a\nb\n', 'cr.txt': 'a\rb\r' });
    const link = await recordStep({ name: 'n', materials: ['.'], normalizeLineEndings: true, cwd });
    const digests = Object.values(link.materials).map((d) => d.sha256);
    expect(new Set(digests).size).toBe(1);
    const raw = await recordStep({ name: 'n', materials: ['.'], cwd });
    expect(new Set(Object.values(raw.materials).map((d) => d.sha256)).size).toBe(3);
  });

  it('fails on a command that outlives its timeout, and writes nothing', async () => {
    const cwd = tree({ 'a.txt': 'a' });
    const before = listing(cwd);
    const started = performance.now();
    await expect(runStep({ name: 'slow', command: ['sleep', '5'], timeoutSeconds: 0.3, key: ed, cwd })).rejects.toMatchObject({ code: 'LIMIT' });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(listing(cwd)).toEqual(before);
  });
});

describe('runStep, recordStart and recordStop: the files the reference writes', () => {
  it('in_toto_run: the same bytes with an ed25519 key, in --metadata-directory', async () => {
    const cwd = tree({ ...SOURCE_TREE, 'out/': { dir: true } });
    const options = { name: 'build', materials: ['src'], products: ['src', 'docs'], command: ['sh', '-c', 'echo "ok ü"'], recordStreams: true };
    const file = `out/build.${edKey.keyid.slice(0, 8)}.link`;
    expect(reference(cwd, 'in_toto_run', [options.name, options.materials, options.products, options.command], { record_streams: true, metadata_directory: 'out' }, edKey)).toHaveProperty('ok');
    const theirs = readFileSync(join(cwd, file));
    rmSync(join(cwd, file));
    const { path } = await runStep({ ...options, key: ed, metadataDirectory: 'out', cwd });
    expect(path).toBe(`${cwd}/${file}`);
    expect(readFileSync(path)).toEqual(theirs);
  });

  it('in_toto_record_start and _stop: the same unfinished file, the same link, the unfinished file removed', async () => {
    const cwd = tree(SOURCE_TREE);
    const unfinished = unfinishedLinkFileName('edit', edKey.keyid);
    const final = `edit.${edKey.keyid.slice(0, 8)}.link`;
    expect(unfinished).toBe(`.edit.${edKey.keyid.slice(0, 8)}.link-unfinished`);

    reference(cwd, 'in_toto_record_start', ['edit', ['src']], {}, edKey);
    const theirStart = readFileSync(join(cwd, unfinished));
    reference(cwd, 'in_toto_record_stop', ['edit', ['src', 'docs']], {}, edKey);
    const theirLink = readFileSync(join(cwd, final));
    expect(existsSync(join(cwd, unfinished))).toBe(false);
    rmSync(join(cwd, final));

    await recordStart({ name: 'edit', materials: ['src'], key: ed, cwd });
    expect(readFileSync(join(cwd, unfinished))).toEqual(theirStart);
    const { path } = await recordStop({ name: 'edit', products: ['src', 'docs'], key: ed, cwd });
    expect(path).toBe(`${cwd}/${final}`);
    expect(readFileSync(path)).toEqual(theirLink);
    expect(existsSync(join(cwd, unfinished))).toBe(false);
  });

  it('recordStop refuses an unfinished link its key did not sign, and changes nothing', async () => {
    const cwd = tree({ 'a.txt': 'a' });
    const { path: unfinished } = await recordStart({ name: 'edit', materials: ['a.txt'], key: ed, cwd });
    const tampered = JSON.parse(readFileSync(unfinished, 'utf8'));
    tampered.signed.materials['a.txt'].sha256 = '0'.repeat(64);
    writeFileSync(unfinished, JSON.stringify(tampered));
    const before = listing(cwd);
    await expect(recordStop({ name: 'edit', products: ['a.txt'], key: ed, cwd })).rejects.toMatchObject({ code: 'SIGNATURE', keyid: ed.keyid });
    expect(listing(cwd)).toEqual(before);
  });

  it('recordStop without recordStart names the file it looked for', async () => {
    const cwd = tree({ 'a.txt': 'a' });
    const error = await recordStop({ name: 'edit', key: ed, cwd }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InTotoError);
    expect(error).toMatchObject({ code: 'IO', path: `${cwd}/${unfinishedLinkFileName('edit', ed.keyid)}` });
    expect(listing(cwd)).toEqual(['a.txt']);
  });

  it('writes DSSE on request, start to stop, and the envelope verifies', async () => {
    const cwd = tree({ 'a.txt': 'a', 'b.txt': 'b' });
    await recordStart({ name: 'edit', materials: ['a.txt'], key: ec, format: 'dsse', cwd });
    const { path } = await recordStop({ name: 'edit', products: ['b.txt'], key: ec, format: 'dsse', cwd });
    const envelope = readEnvelope(readFileSync(path));
    expect(envelope.kind).toBe('dsse');
    await verifySignatureBy(envelope, ec.publicKey);
    const link = parseLink(envelope.signed);
    expect([...link.materials.keys()]).toEqual(['a.txt']);
    expect([...link.products.keys()]).toEqual(['b.txt']);
  });

  it('in_toto_mock: the same unsigned link', async () => {
    const cwd = tree({ 'x.txt': 'x' });
    const command = ['sh', '-c', 'echo out; echo err >&2; echo made > y.txt'];
    reference(cwd, 'in_toto_mock', ['mock', command], {});
    const theirs = readFileSync(join(cwd, 'mock.link'));
    rmSync(join(cwd, 'mock.link'));
    rmSync(join(cwd, 'y.txt'));
    const { path } = await mockStep({ name: 'mock', command, cwd });
    expect(readFileSync(path)).toEqual(theirs);
    expect(readEnvelope(theirs).signatures).toEqual([]);
  });
});

describe('atomic writes: nothing partial or left over on failure', () => {
  it('replaces an existing file whole, with the mode python gives a new file', async () => {
    const dir = tree({ 'old.link': 'old contents, longer than the new ones' });
    await writeFileAtomic(join(dir, 'old.link'), 'new');
    await writeFileAtomic(join(dir, 'fresh.link'), 'fresh');
    expect(readFileSync(join(dir, 'old.link'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'fresh.link')).mode & 0o777).toBe(0o666 & ~process.umask());
    expect(listing(dir)).toEqual(['fresh.link', 'old.link']);
  });

  it('leaves no temporary file when the rename or the directory fails', async () => {
    const dir = tree({ 'taken/': { dir: true } });
    await expect(writeFileAtomic(join(dir, 'taken'), 'x')).rejects.toMatchObject({ code: 'IO', path: join(dir, 'taken') });
    await expect(writeFileAtomic(join(dir, 'missing', 'x.link'), 'x')).rejects.toMatchObject({ code: 'IO' });
    expect(listing(dir)).toEqual(['taken']);
    expect(listing(join(dir, 'taken'))).toEqual([]);
  });

  it('leaves no link when a product cannot be read after the command ran', async () => {
    // /proc/self/mem is a regular file that fails to read (EIO), even for root.
    const cwd = tree({ 'a.txt': 'a', 'mem': { link: '/proc/self/mem' } });
    const before = listing(cwd);
    const error = await runStep({ name: 's', products: ['.'], command: ['true'], key: ed, cwd }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IO', artifact: 'mem' });
    expect(listing(cwd)).toEqual(before);
  });
});

describe('matchProducts', () => {
  it('lists products missing here, files not in the products and digests that differ', async () => {
    const cwd = tree({ 'app.bin': 'v1', 'lib/a.so': 'a', 'lib/b.so': 'b', 'README': 'r' });
    const link = parseLink(await recordStep({ name: 'build', products: ['.'], cwd }));
    expect(await matchProducts(link, { cwd })).toEqual({ onlyInProducts: [], notInProducts: [], differ: [] });

    writeFileSync(join(cwd, 'app.bin'), 'v2');
    rmSync(join(cwd, 'lib/b.so'));
    writeFileSync(join(cwd, 'extra'), 'e');
    writeFileSync(join(cwd, 'zz.link'), 'excluded by default');
    expect(await matchProducts(link, { cwd })).toEqual({ onlyInProducts: ['lib/b.so'], notInProducts: ['extra'], differ: ['app.bin'] });
    // Only the paths asked about, with the link's names reached by left-stripping.
    expect(await matchProducts(link, { cwd, paths: ['lib'], excludePatterns: ['*.md'] })).toEqual({ onlyInProducts: ['README', 'app.bin', 'lib/b.so'], notInProducts: [], differ: [] });
    const stripped = parseLink(await recordStep({ name: 'build', products: ['lib'], lstripPaths: ['lib/'], cwd }));
    expect(await matchProducts(stripped, { cwd, paths: ['lib'], lstripPaths: ['lib/'] })).toEqual({ onlyInProducts: [], notInProducts: [], differ: [] });
  });

  it('compares whole digest sets: another algorithm is a difference', async () => {
    const cwd = tree({ 'a': 'a' });
    const link = parseLink(await recordStep({ name: 'build', products: ['a'], algorithms: ['sha256', 'sha512'], cwd }));
    expect((await matchProducts(link, { cwd })).differ).toEqual(['a']);
    expect((await matchProducts(link, { cwd, algorithms: ['sha256', 'sha512'] })).differ).toEqual([]);
  });
});

describe('resignMetadata and signMetadata', () => {
  it('re-signs a layout as the reference models write it, keeping signatures only with append', async () => {
    const layout = { ...layoutToJSON(createLayout({ readme: 'r' })), unknown_field: 'dropped, as in-toto 1.3.1 drops it' };
    const signed = await signMetadata(layout, [ed]);
    expect(signed.signatures.map((s) => s.keyid)).toEqual([ed.keyid]);

    const replaced = await resignMetadata(signed, [ec]);
    expect(replaced.signatures.map((s) => s.keyid)).toEqual([ec.keyid]);
    expect(replaced.signed).not.toHaveProperty('unknown_field');
    const appended = await resignMetadata(replaced, [ed], { append: true });
    expect(appended.signatures.map((s) => s.keyid)).toEqual([ec.keyid, ed.keyid]);
    // Written and read back, both signatures hold.
    const dir = tree({});
    await writeMetadataFile(join(dir, 'root.layout'), appended);
    const read: Envelope = readEnvelope(readFileSync(join(dir, 'root.layout')));
    for (const key of [ec, ed]) await verifySignatureBy(read, key.publicKey);
  });

  it('keeps a DSSE payload byte for byte', async () => {
    const link = await recordStep({ name: 'x', materials: [], cwd: tree({}) });
    const dsse = await signMetadata(link, [ed], 'dsse');
    const again = await resignMetadata(dsse, [ec], { append: true });
    expect(again.kind).toBe('dsse');
    expect(again.kind === 'dsse' && dsse.kind === 'dsse' && Buffer.from(again.payload).equals(Buffer.from(dsse.payload))).toBe(true);
    for (const key of [ed, ec]) await verifySignatureBy(again, key.publicKey);
  });
});
