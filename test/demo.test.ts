/** The README's main job, run as a person would: `npm run demo` must pass the real chain and refuse the tampered one. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { assertReferenceInstalled } from './helpers/reference.js';

beforeAll(() => assertReferenceInstalled());

it('records the demo chain with our tools, verifies it with ours and the reference, and catches the tampering', () => {
  const script = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url));
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  expect(result.stdout).toContain('demo OK');
  // Our explanation of the tampering names the inspection, the rule, the file and both digests.
  expect(result.stdout).toMatch(/\[RULE_DISALLOW\] inspection 'untar', materials rule \d+ 'DISALLOW \*' failed: foo\.tar\.gz/);
  expect(result.stdout).toMatch(/expected sha256:[0-9a-f]{64} \(products of 'package'\)/);
});
