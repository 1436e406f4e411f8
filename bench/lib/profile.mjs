// Runs a command under `node --cpu-prof` and summarizes the profile: self time and inclusive time per
// function (name and the file of the repository it comes from), so that RESULTS.md can say where our verifier
// spends its time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The bundled tools (bin/, built by scripts/build-bin.mjs) are bundles with hashed names that change with every
 * build; rolldown marks each module it bundles with a `// dist/<path>.js` line. Maps a position in a bundle to
 * the source it was compiled from: bindings/<path>.ts (tsc compiles bindings/ to dist/), or a package.
 */
const chunkModules = new Map();
function sourceOf(url, lineNumber) {
  let path;
  try {
    // The tools' bundles are compiled by their entries (node:vm) under a file path, not a URL.
    path = url.startsWith('/') ? url : fileURLToPath(url);
  } catch {
    return undefined;
  }
  if (!chunkModules.has(path)) {
    const marks = [];
    if (existsSync(path)) {
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        const m = /^\/\/ ((?:dist|node_modules)\/\S+\.js)$/.exec(line);
        if (m) marks.push({ line: i, module: m[1] });
      });
    }
    chunkModules.set(path, marks);
  }
  const mark = chunkModules.get(path).filter((m) => m.line <= lineNumber).pop();
  if (!mark) return undefined;
  if (mark.module.startsWith('dist/')) return `bindings/${mark.module.slice(5, -3)}.ts`;
  const pkg = mark.module.split('/');
  return `package ${pkg[1].startsWith('@') ? `${pkg[1]}/${pkg[2]}` : pkg[1]}`;
}

/** `names`: V8 wasm function index -> engine function name (bench/lib/wasm-names.mjs), possibly empty. */
export function summarizeProfile(profile, names = new Map()) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    time.set(profile.samples[i], (time.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const key = (n) => {
    const { url, lineNumber } = n.callFrame;
    const index = /^wasm-function\[(\d+)\]$/.exec(n.callFrame.functionName);
    const functionName = index && names.has(Number(index[1])) ? names.get(Number(index[1])) : n.callFrame.functionName;
    let file;
    if (url.startsWith('wasm')) file = 'engine.wasm';
    else if (url.includes('/bin/')) file = sourceOf(url, lineNumber) ?? 'a bundled tool in bin/';
    else if (url.includes('/dist/')) file = `bindings/${url.split('/dist/')[1].replace(/\.js$/, '.ts')}`;
    else if (url.startsWith('node:')) file = `Node's ${url.slice(5)}`;
    else if (url) file = url.split('/').slice(-2).join('/');
    return `${functionName || '(anonymous)'}${file ? ` (${file})` : ''}`;
  };
  const self = new Map();
  const inclusive = new Map();
  for (const [id, us] of time) {
    const k = key(byId.get(id));
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(byId.get(cur));
      if (seen.has(kk)) continue;
      seen.add(kk);
      inclusive.set(kk, (inclusive.get(kk) ?? 0) + us);
    }
  }
  const totalMs = [...time.values()].reduce((a, b) => a + b, 0) / 1000;
  const top = (map, filter, count) => [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, us]) => ({ name, ms: us / 1000 }));
  return {
    totalMs,
    self: top(self, () => true, 18),
    inclusive: top(inclusive, (k) => k.includes('(bindings/') || k.includes('(engine.wasm)'), 24),
  };
}

/** Runs `node --cpu-prof <args>` in `cwd` and returns the summary. */
export function profileNode(args, { cwd, env, names }) {
  const dir = mkdtempSync(join(tmpdir(), 'in-toto-bench-prof-'));
  try {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250', ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const wallMs = performance.now() - started;
    if (result.status !== 0) throw new Error(`profiled run exited with ${result.status}: ${result.stderr}`);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    return { wallMs, ...summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), names) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
