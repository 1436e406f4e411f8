/** The README's main job, run as a person would: `npm run demo` must pass the real chain and refuse the tampered one. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  // The README's failure example is what the demo prints, digests aside (they change with every run's keys and
  // tarball); its "(...)" and "..." stand for the parts it leaves out.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = /```\n(in-toto-verify: verification FAILED[\s\S]*?)```/.exec(readme)![1]!;
  const shape = (line: string) => line.replace(/[0-9a-f]{64}/g, 'DIGEST').replace(/ \(foo[^)]*\)$| \(\.\.\.\)$/, '');
  const printed = result.stdout.split('\n').map(shape);
  for (const line of example.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '...')) expect(printed, line).toContain(shape(line));
});
