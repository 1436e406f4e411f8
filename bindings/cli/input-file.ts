/**
 * A file a tool reads whole, synchronously, in chunks up to a limit: a device (/dev/zero) or an endless pipe given as a
 * layout or a key fails with `LIMIT` instead of filling the memory, while a pipe (`-l <(...)`) still works (it has no
 * size to check first). Errors of the file system are thrown as they are: the caller names the file and the flag.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { InTotoError } from '../errors.js';

/** Largest layout or key file `in-toto-verify` reads (the engine's own limit on a document is larger). */
export const MAX_INPUT_FILE_BYTES = 64 << 20;

export function readFileBounded(path: string, what: string, limit = MAX_INPUT_FILE_BYTES): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(1 << 16, limit + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(read === chunk.length ? chunk : chunk.subarray(0, read));
      total += read;
      if (total > limit) throw new InTotoError('LIMIT', `${what} ${path} is larger than ${limit} bytes: refusing to read it whole`, { path });
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
