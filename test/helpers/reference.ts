/**
 * Drives Debian's `in-toto` 1.3.1 (python) from tests: the reference implementation we must agree with.
 * `.ci/run` installs it; a suite that needs it fails loudly (never skips) when it is missing.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** Debian's interpreter: the one `apt-get install in-toto` put securesystemslib and in_toto under. */
export const REFERENCE_PYTHON = '/usr/bin/python3';

export function assertReferenceInstalled(): void {
  const missing = ['/usr/bin/in-toto-verify', '/usr/bin/in-toto-run', REFERENCE_PYTHON].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(`the reference implementation is not installed (missing ${missing.join(', ')}): run 'apt-get install -y in-toto'`);
  }
}

/** Runs a python program with Debian's interpreter; `input` goes to its stdin. Throws on a non-zero exit. */
export function runPython(program: string, input?: string | Uint8Array, args: string[] = []): Buffer {
  return execFileSync(REFERENCE_PYTHON, ['-c', program, ...args], {
    input,
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs one of the reference's tools (`in-toto-run`, `in-toto-verify`, ...) without throwing. */
export function runReference(tool: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(`/usr/bin/${tool}`, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** Directories made by `makeTempDir` in this test file, removed after it (set IN_TOTO_KEEP_TMP=1 to keep them). */
const made: string[] = [];
afterAll(() => {
  const dirs = made.splice(0);
  if (process.env.IN_TOTO_KEEP_TMP) {
    if (dirs.length > 0) console.log(`kept ${dirs.length} temporary directories (IN_TOTO_KEEP_TMP): ${dirs.join(' ')}`);
    return;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory, removed when the test file is done. */
export function makeTempDir(prefix = 'in-toto-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
