/**
 * The published types, as a user's TypeScript project meets them: `npm pack` of the built package, installed
 * (offline) into two small consumer projects, each type-checked with this repository's `tsc` and
 * `skipLibCheck: false`, so every shipped .d.ts the project reaches is checked too.
 * - a Node project: `module: nodenext`, `lib: ["es2022"]`, `types: ["node"]` (no DOM: no `WebAssembly`, no
 *   `BufferSource`), importing `in-toto-wasm`, `in-toto-wasm/link` and `in-toto-wasm/attestations`;
 * - a browser project: `moduleResolution: bundler`, `lib: ["es2022", "dom"]` (no esnext: no
 *   `Symbol.dispose`), the `browser` condition, and no @types/node at all; `in-toto-wasm` and
 *   `in-toto-wasm/attestations` (which reaches the `in-toto-wasm/sigstore` types too).
 * The package's dependencies are this checkout's copies (`file:` links), @types/node is this checkout's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
const TSC = join(root, 'node_modules/.bin/tsc');

let work: string;
let tarball: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'in-toto-consumer-types-'));
  // The built package as published (`npm test` builds first); `--ignore-scripts`: no second build.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  ) as { filename: string }[];
  tarball = join(work, packed[0]!.filename);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A consumer project in `<work>/<name>` with the packed package installed, offline. */
function consumer(name: string, tsconfig: object, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  // The package's dependencies are this checkout's: npm links them instead of asking the registry.
  const dependencies = Object.fromEntries(Object.keys(manifest.dependencies ?? {}).map((dep) => [dep, `file:${realpathSync(join(root, 'node_modules', dep))}`]));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module', dependencies }, null, 2)}\n`);
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** `tsc -p dir --listFiles`: its exit status and output (errors, then the program's files). */
function typeCheck(dir: string): { status: number | null; output: string } {
  const result = spawnSync(TSC, ['-p', dir, '--listFiles'], { cwd: dir, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** tsc's error lines only. */
const errors = (output: string) => output.split('\n').filter((line) => /error TS\d+/.test(line)).join('\n');

const strict = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022' };

describe('the published types compile in a user\'s project (skipLibCheck: false)', () => {
  it('is checked by TypeScript 7, as the package is built', () => {
    expect(execFileSync(TSC, ['--version'], { encoding: 'utf8' })).toMatch(/Version 7\./);
  });

  it('a Node project: lib es2022, types node, module nodenext (no DOM)', () => {
    const dir = consumer(
      'node',
      { compilerOptions: { ...strict, module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }, include: ['main.ts'] },
      {
        'main.ts': `import { readFileSync } from 'node:fs';
import { canonicalize, createEngine, InTotoError, initEngine, loadPublicKey, nodeInspectionRunner, verify, type EngineSource, type Failure, type Verdict } from 'in-toto-wasm';
import { recordStep, runStep, type StepOptions } from 'in-toto-wasm/link';
import { createVsa, evaluateCel, verifyAttestationLayout, verifyVsa, type AttestationVerdict, type CelResult } from 'in-toto-wasm/attestations';

const source: EngineSource = new URL('file:///srv/engine.wasm');
const engine = await initEngine(readFileSync('engine.wasm').buffer as ArrayBuffer);
await initEngine(source);
const bytes: number = engine.invoke((exports) => exports.memory.buffer.byteLength);
const verdict: Verdict = await verify({
  layout: readFileSync('root.layout'),
  layoutKeys: [loadPublicKey(readFileSync('owner.pub', 'utf8'))],
  links: { directory: '.' },
  inspections: { run: nodeInspectionRunner() },
});
const codes: string[] = verdict.failures.map((failure: Failure) => failure.code);
const step: StepOptions = { name: 'build', command: ['make'] };
const link = await recordStep(step);
console.log(bytes, codes, link.name, canonicalize('{}').length, createEngine().limits.maxDepth, runStep, new InTotoError('IO', 'x').code);
const attested: AttestationVerdict = await verifyAttestationLayout({ layout: readFileSync('layout.yml'), allowUnsignedLayout: true, attestations: new Map([['build.1a2b3c4d.json', readFileSync('build.json')]]) });
const cel: CelResult = evaluateCel('x > 1', { x: { type: 'int', value: 2n } });
const vsa = createVsa({ verifierId: 'https://example.com/v', timeVerified: new Date(), resourceUri: 'pkg:npm/app@1.0.0', subject: [{ name: 'app', digest: { sha256: 'a'.repeat(64) } }], policy: { uri: 'layout.yml', bytes: new Uint8Array(), signedBy: [] }, inputs: [], passed: attested.passed });
console.log('value' in cel, vsa, verifyVsa);
`,
      },
    );
    // The Node project's @types (node, and undici-types beside it) are this checkout's.
    symlinkSync(join(root, 'node_modules/@types'), join(dir, 'node_modules/@types'), 'dir');
    const { status, output } = typeCheck(dir);
    expect(errors(output)).toBe('');
    expect(status).toBe(0);
    // It checked the package's Node entry and the link module, not some other entry.
    expect(output).toContain(`node_modules/${manifest.name}/dist/entry/node.d.ts`);
    expect(output).toContain(`node_modules/${manifest.name}/dist/record/link.d.ts`);
    expect(output).toContain(`node_modules/${manifest.name}/dist/verify/attestations.d.ts`);
    expect(output).toContain(`node_modules/${manifest.name}/dist/engine.d.ts`);
  });

  it('a browser project: lib es2022 + dom, moduleResolution bundler, the browser condition (no esnext, no node)', () => {
    const dir = consumer(
      'browser',
      {
        compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], customConditions: ['browser'], types: [] },
        include: ['main.ts'],
      },
      {
        'main.ts': `import { canonicalize, chainGraph, initEngine, LayoutBuilder, loadPublicKey, parseLayout, verify, type EngineSource, type Verdict } from 'in-toto-wasm';
import { evaluateCelMany, signVsa, verifyAttestationLayout, type AttestationFailure } from 'in-toto-wasm/attestations';

const sources: EngineSource[] = [fetch('/engine.wasm'), await WebAssembly.compileStreaming(fetch('/engine.wasm')), new Uint8Array(8), '/engine.wasm'];
const engine = await initEngine(sources[0]);
const pages: number = engine.invoke((exports) => exports.memory.buffer.byteLength);
const files = new Map<string, Uint8Array>();
const verdict: Verdict = await verify({
  layout: files.get('root.layout')!,
  layoutKeys: [loadPublicKey('-----BEGIN PUBLIC KEY-----')],
  links: async (file: string) => files.get(file),
  inspections: 'skip',
});
const layout = parseLayout(new LayoutBuilder().expires('2030-01-01T00:00:00Z').build());
console.log(pages, verdict.passed, chainGraph(layout).nodes.length, canonicalize('{}').length);
const attested = await verifyAttestationLayout({ layout: files.get('layout.json')!, layoutKeys: [loadPublicKey('-----BEGIN PUBLIC KEY-----')], attestations: files });
const failures: readonly AttestationFailure[] = attested.failures;
console.log(failures.length, evaluateCelMany(['1 + 1', 'x'], { x: { json: { a: [1, 'b'] } } }).length, signVsa);
`,
      },
    );
    const { status, output } = typeCheck(dir);
    expect(errors(output)).toBe('');
    expect(status).toBe(0);
    expect(output).toContain(`node_modules/${manifest.name}/dist/entry/browser.d.ts`);
    expect(output).toContain(`node_modules/${manifest.name}/dist/verify/rule-engine.d.ts`);
    expect(output).toContain(`node_modules/${manifest.name}/dist/verify/attestations.d.ts`);
    expect(output).toContain(`node_modules/${manifest.name}/dist/sigstore/trusted-root.d.ts`);
    // Nothing of Node's came in through the package.
    expect(output).not.toMatch(/@types\/node/);
  });
});
