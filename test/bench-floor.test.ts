/**
 * The benchmarks' floor (bench/lib/floor.mjs) is the yardstick of issue #20's goals, so it must really do the work it
 * stands for: in each of its modes (one thread, signatures on libuv's pool, a worker thread, both) it verifies every
 * signature of a chain (ed25519, RSA-PSS, ECDSA P-256 and P-384 links, an ed25519 layout) and fails when a link's
 * signed content, a link's signature or the layout's signature is altered, whichever thread reads the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../bindings/engine.js';
import { keyToPublicFile } from '../bindings/keys/keys.js';
import { buildChain, LAYOUT, makeKeys, type Chain } from './hostile/chains.js';

const FLOOR = fileURLToPath(new URL('../bench/lib/floor.mjs', import.meta.url));
const MODES = ['one', 'pool', 'threads', 'threads-pool'];

let dir: string;
let chain: Chain;

beforeAll(async () => {
  await initEngine();
  const keys = await makeKeys();
  chain = await buildChain('floor', keys, keys.ownerEd, { dsse: () => false, sublayout: false });
  dir = mkdtempSync(join(tmpdir(), 'in-toto-floor-'));
  writeFileSync(join(dir, 'owner.pub'), keyToPublicFile(chain.layoutKeys[0]!));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the chain into a fresh directory, with `file` replaced by `change` of its text, and runs the floor. */
function floor(mode: string, file?: string, change?: (text: string) => string): { status: number | null; stderr: string } {
  const at = mkdtempSync(join(dir, 'chain-'));
  for (const [name, bytes] of [[LAYOUT, chain.layout] as const, ...chain.links]) {
    const text = Buffer.from(bytes).toString('latin1');
    writeFileSync(join(at, name === LAYOUT ? 'root.layout' : name), name === file ? change!(text) : text, 'latin1');
  }
  const result = spawnSync(process.execPath, [FLOOR, '--mode', mode, join(at, 'root.layout'), join(dir, 'owner.pub'), at], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stderr: result.stderr };
}

/** A hex digit in the value after `"<key>": "` at its `nth` occurrence, changed to another. */
function flipHexAfter(text: string, key: string, nth = 0): string {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(`"${key}": "`, at + 1);
  expect(at).toBeGreaterThanOrEqual(0);
  const digit = at + key.length + 5;
  return text.slice(0, digit) + (text[digit] === '0' ? '1' : '0') + text.slice(digit + 1);
}

describe('bench/lib/floor.mjs verifies what it stands for', () => {
  it('the chain has links signed by every key type, and files for every authorized key', () => {
    expect(chain.links.size).toBeGreaterThanOrEqual(4);
    expect([...chain.links.keys()].every((name) => /^[a-z]+\.[0-9a-f]{8}\.link$/.test(name))).toBe(true);
  });

  for (const mode of MODES) {
    it(`--mode ${mode}: passes the chain, fails each alteration`, () => {
      const ok = floor(mode);
      expect(ok.status, ok.stderr).toBe(0);
      for (const file of chain.links.keys()) {
        // The first sha256 digest of the link: inside "signed" (signatures come first, with no digests).
        const content = floor(mode, file, (text) => flipHexAfter(text, 'sha256'));
        expect(content.status, `${file}: content changed`).not.toBe(0);
        expect(content.stderr, file).toContain('a signature does not verify');
        const signature = floor(mode, file, (text) => flipHexAfter(text, 'sig'));
        expect(signature.status, `${file}: signature changed`).not.toBe(0);
        expect(signature.stderr, file).toContain('a signature does not verify');
      }
      const layout = floor(mode, LAYOUT, (text) => flipHexAfter(text, 'sig'));
      expect(layout.status, 'layout signature changed').not.toBe(0);
      expect(layout.stderr).toContain('a signature does not verify');
    }, 120_000);
  }
});
