/**
 * in-toto-golang's line-ending vectors: the same text with LF, CR, CRLF and mixed line endings hashes alike
 * with `--normalize-line-endings`, to the digests expected.json records (and differently without it).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { keyToPrivateFile } from '../../bindings/keys/keys.js';
import { recordArtifacts } from '../../bindings/record/record.js';
import { makeTempDir } from '../helpers/reference.js';
import { foreignVectors } from './vectors.js';

const FOREIGN = foreignVectors();
const expected = JSON.parse(readFileSync(join(FOREIGN, 'expected.json'), 'utf8')).line_endings as Record<string, string> & { files: string[] };
const dir = join(FOREIGN, 'in-toto-golang/test/data');
const files = ['line-ending-linux', 'line-ending-windows', 'line-ending-macos', 'line-ending-mixed'];

describe('line-ending normalization against in-toto-golang vectors', () => {
  beforeAll(() => initEngine());

  it('the library hashes all four files to expected.json digests, and not without normalization', async () => {
    const normalized = await recordArtifacts(files, { basePath: dir, normalizeLineEndings: true, algorithms: ['sha256', 'sha384', 'sha512'] });
    for (const file of files) expect(normalized[file]).toEqual({ sha256: expected.sha256, sha384: expected.sha384, sha512: expected.sha512 });
    const raw = await recordArtifacts(files, { basePath: dir });
    expect(new Set(files.map((f) => raw[f]!.sha256)).size).toBe(4);
  });

  it('in-toto-run --normalize-line-endings records them so', async () => {
    const work = makeTempDir('in-toto-line-endings-');
    for (const file of files) copyFileSync(join(dir, file), join(work, file));
    const key = await generateKeyPair('ed25519');
    const keyFile = join(work, 'key');
    writeFileSync(keyFile, keyToPrivateFile(key));
    const cli = fileURLToPath(new URL('../../dist/cli/in-toto-run.js', import.meta.url));
    const run = spawnSync(process.execPath, [cli, '-n', 'le', '-k', keyFile, '-t', 'ed25519', '-p', ...files, '--normalize-line-endings', '-x'], { cwd: work, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const link = JSON.parse(readFileSync(join(work, `le.${key.keyid.slice(0, 8)}.link`), 'utf8'));
    for (const file of files) expect(link.signed.products[file]).toEqual({ sha256: expected.sha256 });
  });
});
