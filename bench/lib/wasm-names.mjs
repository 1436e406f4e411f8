// Names for the engine's functions in CPU profiles. The release engine has no name section, so V8 shows
// `wasm-function[i]`. This builds the same engine again with names kept (asc --debug, then wasm-opt -g with
// scripts/build-wasm.mjs's flags) into bench/.cache/, and uses its names only if every function body has
// the same size as in build/engine.wasm (the same code, in the same order); otherwise it gives none.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, ROOT } from './fixtures.mjs';

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

/** Imported function count, body sizes of the defined functions, and the name section's function names. */
function readModule(bytes) {
  let at = 8;
  let imports = 0;
  const sizes = [];
  const names = new Map();
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = leb(bytes, at);
    const end = at + size;
    let q = at;
    if (id === 2) {
      let count;
      [count, q] = leb(bytes, q);
      for (let i = 0; i < count; i++) {
        let len;
        [len, q] = leb(bytes, q); q += len; // module
        [len, q] = leb(bytes, q); q += len; // field
        const kind = bytes[q++];
        if (kind === 0) { imports++; [, q] = leb(bytes, q); }
        else if (kind === 1) { q++; const flags = bytes[q++]; [, q] = leb(bytes, q); if (flags & 1) [, q] = leb(bytes, q); }
        else if (kind === 2) { const flags = bytes[q++]; [, q] = leb(bytes, q); if (flags & 1) [, q] = leb(bytes, q); }
        else if (kind === 3) q += 2;
      }
    } else if (id === 10) {
      let count;
      [count, q] = leb(bytes, q);
      for (let i = 0; i < count; i++) {
        let len;
        [len, q] = leb(bytes, q);
        sizes.push(len);
        q += len;
      }
    } else if (id === 0) {
      let len;
      [len, q] = leb(bytes, q);
      const section = new TextDecoder().decode(bytes.subarray(q, q + len));
      q += len;
      while (section === 'name' && q < end) {
        const sub = bytes[q++];
        let subSize;
        [subSize, q] = leb(bytes, q);
        const subEnd = q + subSize;
        if (sub === 1) {
          let count;
          [count, q] = leb(bytes, q);
          for (let i = 0; i < count; i++) {
            let index;
            [index, q] = leb(bytes, q);
            [len, q] = leb(bytes, q);
            names.set(index, new TextDecoder().decode(bytes.subarray(q, q + len)));
            q += len;
          }
        }
        q = subEnd;
      }
    }
    at = end;
  }
  return { imports, sizes, names };
}

/** Map from V8's `wasm-function[i]` index to the engine function's name, or an empty map. */
export function engineFunctionNames(log = () => {}) {
  const release = join(ROOT, 'build/engine.wasm');
  const named = join(CACHE, 'engine.named.wasm');
  try {
    if (!existsSync(named) || statSync(named).mtimeMs < statSync(release).mtimeMs) {
      mkdirSync(CACHE, { recursive: true });
      const raw = join(CACHE, 'engine.named.raw.wasm');
      const bin = (name) => join(ROOT, 'node_modules/.bin', name);
      execFileSync(bin('asc'), ['assembly/index.ts', '--target', 'release', '--debug', '-o', raw], { cwd: ROOT, stdio: 'ignore' });
      execFileSync(bin('wasm-opt'), [raw, '-O3', '-g', '--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-sign-ext',
        '--enable-mutable-globals', '--enable-nontrapping-float-to-int', '-o', named], { cwd: ROOT, stdio: 'ignore' });
    }
    const a = readModule(readFileSync(release));
    const b = readModule(readFileSync(named));
    const same = a.imports === b.imports && a.sizes.length === b.sizes.length && a.sizes.every((s, i) => s === b.sizes[i]);
    if (!same) {
      log('  (the named engine build differs from build/engine.wasm: profile shows wasm-function indices)');
      return new Map();
    }
    return b.names;
  } catch (error) {
    log(`  (no engine function names: ${error.message.split('\n')[0]})`);
    return new Map();
  }
}
