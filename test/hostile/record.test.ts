/**
 * Recording from hostile trees (bindings/record/record.ts, and link writing in bindings/record/link.ts): FIFOs and devices,
 * symlink loops, files that vanish, change or turn into FIFOs while they are hashed, paths outside the base
 * path. Each ends in a clear, typed error or a result that says exactly what was recorded, and never in a
 * partial link file.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, promises, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { initEngine } from '../../bindings/engine.js';
import type { PrivateKey } from '../../bindings/keys/keys.js';
import { recordArtifacts, type SkipReason } from '../../bindings/record/record.js';
import { makeTempDir } from '../helpers/reference.js';
import { isTypedError } from './chains.js';

const temps: string[] = [];
function dir(): string {
  const d = makeTempDir('hostile-record-');
  temps.push(d);
  return d;
}
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Resolves with the promise's value, or 'hung' after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lists a directory recursively: to show that a failed recording left nothing behind. */
function listing(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
}

let key: PrivateKey;
beforeAll(async () => {
  await initEngine();
  key = await generateKeyPair('ed25519');
});
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('special files and loops', () => {
  it('FIFOs, devices, and dead or looping symlinks are skipped (named, with why), never opened', async () => {
    const root = dir();
    mkdirSync(join(root, 't/sub'), { recursive: true });
    writeFileSync(join(root, 't/ok.txt'), 'ok');
    execFileSync('mkfifo', [join(root, 't/fifo'), join(root, 'top-fifo')]);
    symlinkSync('/dev/zero', join(root, 't/zero'));
    symlinkSync('/dev/stdin', join(root, 't/stdin'));
    symlinkSync('ping', join(root, 't/pong'));
    symlinkSync('pong', join(root, 't/ping'));
    symlinkSync('..', join(root, 't/sub/up')); // a directory loop
    const skipped: [string, SkipReason][] = [];
    const result = await within(
      recordArtifacts(['t', 'top-fifo', '/dev/zero'], { basePath: root, followSymlinkDirs: true, onSkip: (p, why) => skipped.push([p, why]) }),
      5_000,
    );
    expect(result).toEqual({ 't/ok.txt': { sha256: sha256('ok') } });
    expect(skipped.sort()).toEqual(
      [
        ['/dev/zero', 'missing'],
        ['t/fifo', 'not-a-file'],
        ['t/ping', 'not-a-file'],
        ['t/pong', 'not-a-file'],
        ['t/stdin', 'not-a-file'],
        ['t/sub/up', 'cycle'],
        ['t/zero', 'not-a-file'],
        ['top-fifo', 'missing'],
      ].sort(),
    );
  });

  it('mutual symlinked directories (a/b -> ../c, c/d -> ../a) finish, each file under its loop-free paths', async () => {
    const root = dir();
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'c'));
    writeFileSync(join(root, 'a/x'), 'x');
    writeFileSync(join(root, 'c/y'), 'y');
    symlinkSync('../c', join(root, 'a/b'));
    symlinkSync('../a', join(root, 'c/d'));
    const result = await recordArtifacts(['a', 'c'], { basePath: root, followSymlinkDirs: true });
    expect(Object.keys(result).sort()).toEqual(['a/b/y', 'a/x', 'c/d/x', 'c/y']);
  });
});

describe('files that change under the recorder', () => {
  it('a file that vanishes between listing and hashing is an IO error naming it, and no link file is written', async () => {
    const root = dir();
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd/a.txt'), 'a');
    writeFileSync(join(root, 'd/gone.txt'), 'soon gone');
    mkdirSync(join(root, 'links'));
    const readdir = promises.readdir;
    (promises as { readdir: unknown }).readdir = async (...args: Parameters<typeof readdir>) => {
      const entries = await readdir(...args);
      if (String(args[0]).endsWith('/d')) unlinkSync(join(root, 'd/gone.txt'));
      return entries;
    };
    try {
      const error = await recordArtifacts(['d'], { basePath: root }).catch((e: unknown) => e);
      expect(isTypedError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'IO', artifact: 'd/gone.txt' });
      // Through the link writer too: the error, and nothing in the metadata directory.
      writeFileSync(join(root, 'd/gone.txt'), 'back');
      const { runStep } = await import('../../bindings/record/link.js');
      const before = listing(root).filter((p) => p !== 'd/gone.txt');
      const failed = await runStep({ name: 'build', materials: ['d'], cwd: root, metadataDirectory: 'links', key }).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: 'IO', artifact: 'd/gone.txt' });
      expect(listing(root)).toEqual(before);
    } finally {
      (promises as { readdir: unknown }).readdir = readdir;
    }
  });

  it('runStep leaves no partial or temporary file when the link cannot be written', async () => {
    const root = dir();
    writeFileSync(join(root, 'a.txt'), 'a');
    const { runStep } = await import('../../bindings/record/link.js');
    const before = listing(root);
    const failed = await runStep({ name: 'build', products: ['a.txt'], cwd: root, metadataDirectory: 'no/such/dir', key }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'IO' });
    expect(listing(root)).toEqual(before);
    // A step name that is a path writes where it says (as the reference's tools do): the caller names steps.
    mkdirSync(join(root, 'links'));
    const written = await runStep({ name: 'x', products: ['a.txt'], cwd: root, metadataDirectory: 'links', key });
    expect(written.path.startsWith(join(root, 'links'))).toBe(true);
  });

  /**
   * record.ts hashes what it listed by opening the path again (`openSync(path, 'r')`): a regular file swapped for
   * a FIFO after the walk blocks the hashing thread in open(2) until some writer comes, then records the FIFO's
   * bytes (here: none) as that file's digest. Fix (createFileHasher): open with O_RDONLY | O_NONBLOCK (| O_NOFOLLOW
   * when the walk did not follow a link there), fstat the descriptor, refuse anything but a regular file with an
   * IO error naming the artifact.
   */
  it('a file replaced by a FIFO after it was listed is refused, not hashed as whatever the FIFO gives', async () => {
    const root = dir();
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd/f.txt'), 'real content');
    const fifo = join(root, 'd/f.txt');
    // A writer that comes after 1.5 s, so that the blocked open(2) returns in any case (end of file).
    const writer = spawn('timeout', ['5', 'sh', '-c', `sleep 1.5; exec 3> '${fifo}'`], { stdio: 'ignore' });
    const readdir = promises.readdir;
    (promises as { readdir: unknown }).readdir = async (...args: Parameters<typeof readdir>) => {
      const entries = await readdir(...args);
      if (String(args[0]).endsWith('/d')) {
        unlinkSync(fifo);
        execFileSync('mkfifo', [fifo]);
      }
      return entries;
    };
    try {
      const outcome = await recordArtifacts(['d'], { basePath: root }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      expect(outcome).toMatchObject({ error: { code: 'IO', artifact: 'd/f.txt' } });
    } finally {
      (promises as { readdir: unknown }).readdir = readdir;
      writer.kill();
    }
  });

  /**
   * A file written to while it is hashed gets the digest of bytes that were never the file's content at any one
   * time, and the link says nothing about it. Fix (createFileHasher): fstat the descriptor before and after
   * reading; a different size, mtime or ctime is an IO error ("changed while it was hashed"), as `tar` warns
   * "file changed as we read it".
   */
  it('a file that changes while it is hashed is an error, not the digest of no version of it', async () => {
    const root = dir();
    const big = join(root, 'big');
    writeFileSync(big, new Uint8Array(48 << 20));
    const appender = spawn('timeout', ['20', 'sh', '-c', `while :; do printf x >> '${big}'; done`], { stdio: 'ignore' });
    try {
      const start = statSync(big).size;
      for (let i = 0; i < 200 && statSync(big).size === start; i++) await new Promise((r) => setTimeout(r, 10));
      expect(statSync(big).size).toBeGreaterThan(start); // the writer is running
      const outcome = await recordArtifacts(['big'], { basePath: root }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      expect(outcome).toMatchObject({ error: { code: 'IO', artifact: 'big' } });
    } finally {
      appender.kill();
    }
  });
});

describe('paths outside the base path', () => {
  it('are recorded as written (`..`, absolute, through symlinks), never folded into a path inside it', async () => {
    const root = dir();
    mkdirSync(join(root, 'proj/src'), { recursive: true });
    mkdirSync(join(root, 'proj/sibling'), { recursive: true });
    mkdirSync(join(root, 'sibling'));
    writeFileSync(join(root, 'proj/src/a.txt'), 'a');
    writeFileSync(join(root, 'proj/sibling/c.txt'), 'inside');
    writeFileSync(join(root, 'sibling/c.txt'), 'outside');
    symlinkSync('../sibling', join(root, 'proj/out'));
    const base = join(root, 'proj');
    const result = await recordArtifacts(['../sibling/c.txt', `${root}/sibling/c.txt`, 'src', 'out', 'sibling'], { basePath: base, followSymlinkDirs: true });
    expect(result).toEqual({
      '../sibling/c.txt': { sha256: sha256('outside') },
      [`${root}/sibling/c.txt`]: { sha256: sha256('outside') },
      'out/c.txt': { sha256: sha256('outside') },
      'sibling/c.txt': { sha256: sha256('inside') },
      'src/a.txt': { sha256: sha256('a') },
    });
    // Left-stripping `../` would make the outside file and the inside one the same path: refused.
    const error = await recordArtifacts(['../sibling/c.txt', 'sibling'], { basePath: base, lstripPaths: ['../'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FORMAT', artifact: 'sibling/c.txt' });
  });
});
