// The digest algorithms of the in-toto Attestation Framework's DigestSet (spec/v1/digest_set.md), as
// bindings/attestation/statement.ts knows them: each known algorithm's lengths in hex digits, and which ones a
// verifier trusts (md5 and sha1 never alone). The two lists must stay equal to HEX_LENGTHS and
// ACCEPTED_ALGORITHMS there (test/attestation/engine-statement.test.ts compares them).

class Algorithm {
  readonly ptr: usize;
  readonly len: u32;
  constructor(
    readonly bytes: ArrayBuffer,
    readonly hexA: u32,
    readonly hexB: u32,
    readonly accepted: bool,
  ) {
    this.ptr = changetype<usize>(bytes);
    this.len = <u32>bytes.byteLength;
  }
}

function alg(name: string, hexA: u32, hexB: u32, accepted: bool): Algorithm {
  return new Algorithm(String.UTF8.encode(name), hexA, hexB, accepted);
}

const ALGORITHMS: Algorithm[] = [
  // sha256 first: nearly every digest is one.
  alg('sha256', 64, 0, true),
  alg('sha512', 128, 0, true),
  alg('sha384', 96, 0, true),
  alg('sha224', 56, 0, true),
  alg('sha512_224', 56, 0, true),
  alg('sha512_256', 64, 0, true),
  alg('sha3_224', 56, 0, true),
  alg('sha3_256', 64, 0, true),
  alg('sha3_384', 96, 0, true),
  alg('sha3_512', 128, 0, true),
  alg('dirHash', 64, 0, true),
  alg('gitBlob', 40, 64, true),
  alg('gitCommit', 40, 64, true),
  alg('gitTag', 40, 64, true),
  alg('gitTree', 40, 64, true),
  alg('md5', 32, 0, false),
  alg('sha1', 40, 0, false),
];

/** The known algorithm named by the `len` bytes at `ptr`, or null (an unknown one: any string value, never trusted). */
export function knownAlgorithm(ptr: usize, len: u32): Algorithm | null {
  for (let i = 0; i < ALGORITHMS.length; i++) {
    const a = unchecked(ALGORITHMS[i]);
    if (a.len == len && memory.compare(a.ptr, ptr, len) == 0) return a;
  }
  return null;
}

/** Whether the algorithm named by the `len` bytes at `ptr` is one a verifier trusts. */
export function isAccepted(ptr: usize, len: u32): bool {
  const a = knownAlgorithm(ptr, len);
  return a !== null && a.accepted;
}

/** Whether the `len` bytes at `ptr` are lower-case hex digits of a length `a` has. */
export function isKnownDigest(a: Algorithm, ptr: usize, len: u32): bool {
  if (len != a.hexA && (a.hexB == 0 || len != a.hexB)) return false;
  for (let i: u32 = 0; i < len; i++) {
    const c = <u32>load<u8>(ptr + i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}
