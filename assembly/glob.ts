// Shell-style globs with exactly the meaning of python's `fnmatch.fnmatch` on POSIX (where
// `os.path.normcase` is the identity, so it is `fnmatchcase`), which is what in-toto's artifact rules use.
//
// python compiles a pattern to a regular expression (`fnmatch.translate`, CPython 3.11) and matches the
// whole path with it. We compile the same pattern to a short token list once per rule and match paths
// against it without a regex engine:
//   `*`       any run of code points, `/` and newline included (consecutive stars are one star)
//   `?`       any one code point (not one byte: paths are UTF-8 decoded)
//   `[...]`   a set of code points, `[!...]` its complement; `[^...]` is NOT a complement (a literal `^`);
//             `]` right after `[` or `[!` is a member; `-` forms ranges by python's own rules (below);
//             a `[` with no closing `]` is a literal `[`
//   anything else, backslash included, is a literal code point.
//
// Matching is the greedy-star algorithm with one backtrack point: on a mismatch, only the most recent `*`
// is retried one code point further on. That is exact for globs, because `*` is the only token of variable
// width (a later star can absorb whatever an earlier one would have taken), and it costs at most
// tokens x path steps, so crafted patterns such as `*a*a*a*a*b` cannot make it exponential.

import { Words } from './buffers';
import { compareBytes } from './sort';

const K_LIT: u32 = 1; // word: cp << 4 | K_LIT
const K_ANY: u32 = 2;
const K_STAR: u32 = 3;
const K_CLASS: u32 = 4; // word: K_CLASS | NEGATED, then the range count n, then n (lo, hi) pairs
const K_NEVER: u32 = 5; // a set python reduces to nothing: `(?!)`, matches no code point
const NEGATED: u32 = 0x10;

/** The whole pattern is `*` (after merging stars): every path matches. */
const M_ALL: u32 = 0;
/** No wildcard at all: the path must equal the pattern's bytes. */
const M_EXACT: u32 = 1;
const M_GENERAL: u32 = 2;
/** `*` then literals only (`*.tar.gz`): the path must end with those bytes. */
const M_SUFFIX: u32 = 3;
/** Literals only, then `*` (`src/*`): the path must start with those bytes. */
const M_PREFIX: u32 = 4;

/** Marks the `-` that python's translate leaves unescaped between two chunks of a set (a range operator). */
const SEP: u32 = 0xffffffff;

const tokens = new Words();
const codePoints = new Words(); // the pattern decoded, for compiling
const closeAt = new Words(); // for each pattern position, the first `]` at or after it (or the length)
const set = new Words(); // one bracket expression being compiled
const merged = new Words(); // the bracket expression after step 3, built right to left
let mode: u32 = M_GENERAL;
let exactPtr: usize = 0;
let exactLen: u32 = 0;

/**
 * Inner-loop iterations of `globMatch`, plus code points compiled by `compileGlob`, since the last
 * `resetGlobSteps` (for the linear-time tests: compiling is linear in the pattern, matching is at most
 * tokens x path code points).
 */
export let globSteps: u64 = 0;

export function resetGlobSteps(): void {
  globSteps = 0;
}

/** Length of the UTF-8 sequence whose lead byte is `c` (input is known to be well-formed). */
@inline function seqLength(c: u32): u32 {
  return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/** Decodes the code point at p of well-formed UTF-8. */
@inline function decodeAt(p: usize, c: u32): u32 {
  if (c < 0x80) return c;
  if (c < 0xe0) return ((c & 0x1f) << 6) | (<u32>load<u8>(p + 1) & 0x3f);
  if (c < 0xf0) return ((c & 0x0f) << 12) | ((<u32>load<u8>(p + 1) & 0x3f) << 6) | (<u32>load<u8>(p + 2) & 0x3f);
  return ((c & 0x07) << 18) | ((<u32>load<u8>(p + 1) & 0x3f) << 12) | ((<u32>load<u8>(p + 2) & 0x3f) << 6) | (<u32>load<u8>(p + 3) & 0x3f);
}

/** True when `len` bytes at `ptr` are well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
export function isUtf8(ptr: usize, len: u32): bool {
  const end = ptr + len;
  let p = ptr;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c < 0x80) {
      p++;
      continue;
    }
    let n: u32 = 0;
    let lo: u32 = 0x80;
    let hi: u32 = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      else if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      else if (c == 0xf4) hi = 0x8f;
    } else return false;
    if (end - p < n) return false;
    const c1 = <u32>load<u8>(p + 1);
    if (c1 < lo || c1 > hi) return false;
    for (let k: u32 = 2; k < n; k++) {
      if ((<u32>load<u8>(p + k) & 0xc0) != 0x80) return false;
    }
    p += n;
  }
  return true;
}

@inline function cpAt(i: u32): u32 {
  return codePoints.get(i);
}

@inline function push(w: u32): void {
  tokens.set(tokens.grow(1), w);
}

@inline function pushSet(w: u32): void {
  set.set(set.grow(1), w);
}

@inline function pushMerged(w: u32): void {
  merged.set(merged.grow(1), w);
}

/**
 * Step 3 of `compileSet` on `set` (chunks separated by SEP), in place and in linear time. python walks its
 * chunk list right to left: when the previous chunk's last code point is greater than the current chunk's
 * first, it joins them without both (`chunks[k-1][:-1] + chunks[k][1:]`), and the joined chunk is the
 * current one for the next comparison. Deleting from the middle of an array at each step would be
 * quadratic (`[x-ax-a...x-aqqq...]` shifts the tail every time), so the result is built right to left in
 * `merged`, whose top is always the current chunk's first code point, then reversed back into `set`.
 */
function dropEmptyRanges(): void {
  merged.reset();
  let x = <i32>set.len - 1;
  let current: u32 = 0; // code points of the current chunk on top of `merged`
  while (x >= 0 && set.get(<u32>x) != SEP) {
    pushMerged(set.get(<u32>x));
    current++;
    x--;
  }
  while (x >= 0) {
    const sep = x; // the operator before the current chunk; the previous chunk is [start, sep)
    let start = sep - 1;
    while (start >= 0 && set.get(<u32>start) != SEP) start--;
    start++;
    const previous = <u32>(sep - start);
    globSteps += previous;
    if (previous > 0 && current > 0 && set.get(<u32>sep - 1) > merged.get(merged.len - 1)) {
      merged.len--; // the current chunk's first code point goes, and so does the previous chunk's last
      for (let y = sep - 2; y >= start; y--) pushMerged(set.get(<u32>y));
      current = current - 1 + previous - 1;
    } else {
      pushMerged(SEP);
      for (let y = sep - 1; y >= start; y--) pushMerged(set.get(<u32>y));
      current = previous;
    }
    x = start - 1;
  }
  const n = merged.len;
  set.reset();
  set.grow(n);
  for (let i: u32 = 0; i < n; i++) set.set(i, merged.get(n - 1 - i));
}

/**
 * Compiles the bracket expression whose content is pattern code points [i, j) (`j` at the closing `]`).
 *
 * python (3.11 `fnmatch.translate`) does not read a set the way POSIX does; it rewrites it into a regex
 * class, and this reproduces that rewrite step by step, then reads the class the way `re` does:
 *  1. Without any `-`, the content is a list of literal members.
 *  2. Otherwise it is cut into chunks at `-` signs: the first search starts one past the opening `[` (two
 *     past `[!`), and after each cut the next search starts two code points past the cut's range end, so
 *     in `a-b-c` the second `-` is a literal member. An empty last chunk (the set ends in `-`) makes
 *     that `-` a literal member of the previous chunk.
 *  3. Chunks are joined again by range operators, after dropping every empty range right to left:
 *     when the previous chunk's last code point is greater than the next chunk's first, both endpoints
 *     and the operator disappear (so `[z-a]` matches nothing and `[!z-a]` matches anything).
 *  4. If the result starts with `!` it is a complement (even when that `!` came from step 3, as in
 *     `[z-a!x]`); a range operator that then stands first is a literal `-`, as in `re`.
 */
function compileSet(i: u32, j: u32): void {
  set.reset();
  let hyphen = false;
  for (let k = i; k < j; k++) {
    if (cpAt(k) == 0x2d) {
      hyphen = true;
      break;
    }
  }
  if (!hyphen) {
    for (let k = i; k < j; k++) pushSet(cpAt(k));
  } else {
    let start = i;
    let k = cpAt(i) == 0x21 ? i + 2 : i + 1;
    let chunks: u32 = 0;
    while (true) {
      let h: i64 = -1;
      for (let x = k; x < j; x++) {
        if (cpAt(x) == 0x2d) {
          h = x;
          break;
        }
      }
      if (h < 0) break;
      if (chunks > 0) pushSet(SEP);
      for (let x = start; x < <u32>h; x++) pushSet(cpAt(x));
      chunks++;
      start = <u32>h + 1;
      k = <u32>h + 3;
    }
    if (start < j) {
      if (chunks > 0) pushSet(SEP);
      for (let x = start; x < j; x++) pushSet(cpAt(x));
    } else {
      pushSet(0x2d); // the set ended in `-`: a literal member of the last chunk
    }
    dropEmptyRanges();
  }
  const n = set.len;
  if (n == 0) {
    push(K_NEVER);
    return;
  }
  if (n == 1 && set.get(0) == 0x21) {
    push(K_ANY); // `[!]` after step 3: python writes `.`, any code point
    return;
  }
  let x: u32 = 0;
  let flags: u32 = 0;
  if (set.get(0) == 0x21) {
    flags = NEGATED;
    x = 1;
  }
  push(K_CLASS | flags);
  const countAt = tokens.grow(1);
  let ranges: u32 = 0;
  while (x < n) {
    let lo = set.get(x);
    if (lo == SEP) lo = 0x2d; // an operator first in the class is a literal `-` (re's reading)
    x++;
    let hi = lo;
    if (x + 1 < n && set.get(x) == SEP) {
      hi = set.get(x + 1);
      x += 2;
    }
    push(lo);
    push(hi);
    ranges++;
  }
  tokens.set(countAt, ranges);
}

/** Compiles the pattern (`len` bytes of well-formed UTF-8 at `ptr`) for the following `globMatch` calls. */
export function compileGlob(ptr: usize, len: u32): void {
  codePoints.reset();
  let p = ptr;
  const end = ptr + len;
  while (p < end) {
    const c = <u32>load<u8>(p);
    codePoints.set(codePoints.grow(1), decodeAt(p, c));
    p += seqLength(c);
  }
  tokens.reset();
  const n = codePoints.len;
  globSteps += n;
  // Where each bracket expression would close, found once right to left: searching forward from every `[`
  // would make `[[[[...` (no `]`) quadratic in the pattern's length.
  closeAt.reset();
  closeAt.grow(n + 1);
  closeAt.set(n, n);
  for (let k = <i32>n - 1; k >= 0; k--) closeAt.set(<u32>k, cpAt(<u32>k) == 0x5d ? <u32>k : closeAt.get(<u32>k + 1));
  let wild = false;
  let i: u32 = 0;
  let lastStar = false;
  while (i < n) {
    const c = cpAt(i);
    i++;
    if (c == 0x2a) {
      if (!lastStar) push(K_STAR);
      lastStar = true;
      wild = true;
      continue;
    }
    lastStar = false;
    if (c == 0x3f) {
      push(K_ANY);
      wild = true;
    } else if (c == 0x5b) {
      // Find the closing `]`: one right after `[` or `[!` is a member, not the end.
      let j = i;
      if (j < n && cpAt(j) == 0x21) j++;
      if (j < n && cpAt(j) == 0x5d) j++;
      j = closeAt.get(j);
      if (j >= n) {
        push((c << 4) | K_LIT); // unclosed: a literal `[`, and the rest is read normally
      } else {
        compileSet(i, j);
        i = j + 1;
        wild = true;
      }
    } else {
      push((c << 4) | K_LIT);
    }
  }
  if (!wild) {
    // Only literal tokens: their UTF-8 is the pattern's own bytes.
    mode = M_EXACT;
    exactPtr = ptr;
    exactLen = len;
  } else if (tokens.len == 1 && lastStar) {
    mode = M_ALL;
  } else {
    mode = M_GENERAL;
    // One star, first or last, and literal code points otherwise (an unclosed `[` is one too): the literals'
    // UTF-8 is the pattern's own bytes past (or before) its run of stars. A path is well-formed UTF-8 and the
    // literals whole code points, so a byte-wise end (start) is where the star's code points end (start).
    let stars: u32 = 0;
    let literals = true;
    for (let t: u32 = 0; t < tokens.len; t++) {
      const k = tokens.get(t) & 0xf;
      if (k == K_STAR) stars++;
      else if (k != K_LIT) literals = false;
    }
    if (literals && stars == 1) {
      let lead: u32 = 0;
      while (lead < len && load<u8>(ptr + lead) == 0x2a) lead++;
      let trail: u32 = 0;
      while (trail < len && load<u8>(ptr + len - 1 - trail) == 0x2a) trail++;
      if ((tokens.get(0) & 0xf) == K_STAR) {
        mode = M_SUFFIX;
        exactPtr = ptr + lead;
        exactLen = len - lead;
      } else if ((tokens.get(tokens.len - 1) & 0xf) == K_STAR) {
        mode = M_PREFIX;
        exactPtr = ptr;
        exactLen = len - trail;
      }
    }
  }
}

/** Whether token word index t matches code point cp (t is not a star). */
@inline function tokenMatches(t: usize, w: u32, cp: u32): bool {
  const kind = w & 0xf;
  if (kind == K_LIT) return w >> 4 == cp;
  if (kind == K_ANY) return true;
  if (kind == K_CLASS) {
    const n = load<u32>(t + 4);
    let inSet = false;
    for (let r: u32 = 0; r < n; r++) {
      const at = t + 8 + (<usize>r << 3);
      if (cp >= load<u32>(at) && cp <= load<u32>(at + 4)) {
        inSet = true;
        break;
      }
    }
    return inSet != ((w & NEGATED) != 0);
  }
  return false; // K_NEVER
}

@inline function tokenWords(w: u32, t: usize): u32 {
  return (w & 0xf) == K_CLASS ? 2 + (load<u32>(t + 4) << 1) : 1;
}

/** Whether the `len` bytes at `s` (well-formed UTF-8) match the pattern last compiled. */
export function globMatch(s: usize, len: u32): bool {
  if (mode == M_ALL) return true;
  if (mode == M_EXACT) {
    return len == exactLen && compareBytes(<u32>s, len, <u32>exactPtr, exactLen) == 0;
  }
  if (mode == M_SUFFIX) {
    return len >= exactLen && memory.compare(s + len - exactLen, exactPtr, exactLen) == 0;
  }
  if (mode == M_PREFIX) {
    return len >= exactLen && memory.compare(s, exactPtr, exactLen) == 0;
  }
  const base = tokens.ptr;
  const count = tokens.len;
  let ti: u32 = 0; // token word index
  let si: u32 = 0; // byte offset into the path
  let starNext: i64 = -1; // token after the last star seen, or -1
  let starFrom: u32 = 0; // path offset that star's match currently ends at
  let steps: u64 = 0;
  let result = false;
  while (true) {
    steps++;
    if (ti < count) {
      const t = base + (<usize>ti << 2);
      const w = load<u32>(t);
      if ((w & 0xf) == K_STAR) {
        if (ti + 1 == count) {
          // A star that ends the pattern takes whatever is left.
          result = true;
          break;
        }
        ti++;
        starNext = ti;
        starFrom = si;
        continue;
      }
      if (si < len) {
        const c = <u32>load<u8>(s + si);
        if (tokenMatches(t, w, decodeAt(s + si, c))) {
          ti += tokenWords(w, t);
          si += seqLength(c);
          continue;
        }
      }
    } else if (si == len) {
      result = true;
      break;
    }
    // Mismatch: let the last star take one more code point and retry what follows it.
    if (starNext < 0 || starFrom >= len) break;
    starFrom += seqLength(<u32>load<u8>(s + starFrom));
    si = starFrom;
    ti = <u32>starNext;
  }
  globSteps += steps;
  return result;
}
