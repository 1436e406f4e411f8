// Regular expressions for CEL's matches(): RE2 syntax, matched by a Pike VM (a breadth-first simulation of the
// automaton) over code points, so the time is at most (text length x program size) on any pattern: no backtracking,
// no catastrophic pattern. Unanchored, as RE2's partial match (CEL's `matches`).
//
// Covered: literals and escapes (\t \n \r \f \v \a \x{..} \xhh, escaped punctuation), `.`, classes `[...]` with
// ranges and negation and the Perl classes \d \w \s (and \D \W \S) inside or out, groups `(...)` and `(?:...)`,
// alternation, `* + ? {n} {n,} {n,m}` (lazy forms too: the same boolean answer), anchors `^ $` and `\A \z`, and the
// flags `(?i)`, `(?s)`, `(?m)` at the start of the pattern. Anything else (Unicode classes \p, backreferences, which
// RE2 refuses too) is a compile error with a message.

const OP_CHAR: i32 = 0; // arg1: class index
const OP_ANY: i32 = 1; // arg1: 1 when it matches a newline too (?s)
const OP_SPLIT: i32 = 2; // arg1, arg2: targets
const OP_JMP: i32 = 3;
const OP_MATCH: i32 = 4;
const OP_BEGIN: i32 = 5; // arg1: 1 for multi-line ^
const OP_END: i32 = 6; // arg1: 1 for multi-line $

/** Largest program; larger patterns (or repetitions) are refused. */
const MAX_PROGRAM: i32 = 20_000;
/** Most text positions x program instructions one match may cost. */
const MAX_WORK: i64 = 20_000_000;

let ops = new Array<i32>();
let arg1 = new Array<i32>();
let arg2 = new Array<i32>();
/** Classes: ranges as pairs in `ranges`, from `classStart[i]`, `classCount[i]` pairs, negated when `classNeg[i]`. */
let ranges = new Array<i32>();
let classStart = new Array<i32>();
let classCount = new Array<i32>();
let classNeg = new Array<bool>();

let pat: i32[] = [];
let at: i32 = 0;
let error: string | null = null;
let foldCase = false;
let dotAll = false;
let multiLine = false;
let depth: i32 = 0;

function fail(message: string): void {
  if (error === null) error = message;
}

function emit(op: i32, a: i32, b: i32): i32 {
  if (ops.length >= MAX_PROGRAM) {
    fail('the pattern is too large');
    return ops.length;
  }
  ops.push(op);
  arg1.push(a);
  arg2.push(b);
  return ops.length - 1;
}

function newClass(pairs: i32[], negated: bool): i32 {
  classStart.push(ranges.length);
  let n = 0;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    ranges.push(pairs[i]);
    ranges.push(pairs[i + 1]);
    n++;
    if (foldCase) {
      // Add the other case of ASCII letters in the range.
      const lo = max(pairs[i], 0x41);
      const hi = min(pairs[i + 1], 0x5a);
      if (lo <= hi) {
        ranges.push(lo + 32);
        ranges.push(hi + 32);
        n++;
      }
      const lo2 = max(pairs[i], 0x61);
      const hi2 = min(pairs[i + 1], 0x7a);
      if (lo2 <= hi2) {
        ranges.push(lo2 - 32);
        ranges.push(hi2 - 32);
        n++;
      }
    }
  }
  classCount.push(n);
  classNeg.push(negated);
  return classStart.length - 1;
}

// A program fragment: instructions [start, end) with their own targets relative to nothing (absolute indexes).
// Compilation emits in order; repetition re-emits a fragment by re-parsing its source text (bounded by MAX_PROGRAM).

const PERL_D: i32[] = [0x30, 0x39];
const PERL_W: i32[] = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const PERL_S: i32[] = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];

function negate(pairs: i32[]): i32[] {
  const out = new Array<i32>();
  let next = 0;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    if (pairs[i] > next) {
      out.push(next);
      out.push(pairs[i] - 1);
    }
    next = pairs[i + 1] + 1;
  }
  if (next <= 0x10ffff) {
    out.push(next);
    out.push(0x10ffff);
  }
  return out;
}

/** A Perl class letter (d w s D W S) as ranges, or null. */
function perlClass(c: i32): i32[] | null {
  if (c == 0x64) return PERL_D;
  if (c == 0x77) return PERL_W;
  if (c == 0x73) return PERL_S;
  if (c == 0x44) return negate(PERL_D);
  if (c == 0x57) return negate(PERL_W);
  if (c == 0x53) return negate(PERL_S);
  return null;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** An escaped code point after a backslash at `at` (past it), or -1 (with `error` set) / -2 for a class. */
function escapeChar(): i32 {
  if (at >= pat.length) {
    fail('a trailing backslash');
    return -1;
  }
  const c = pat[at++];
  if (c == 0x74) return 9;
  if (c == 0x6e) return 10;
  if (c == 0x72) return 13;
  if (c == 0x66) return 12;
  if (c == 0x76) return 11;
  if (c == 0x61) return 7;
  if (c == 0x78) {
    let v = 0;
    if (at < pat.length && pat[at] == 0x7b) {
      at++;
      let digits = 0;
      while (at < pat.length && pat[at] != 0x7d) {
        const h = hexDigit(pat[at++]);
        if (h < 0 || ++digits > 6) {
          fail('a malformed \\x{...} escape');
          return -1;
        }
        v = (v << 4) | h;
      }
      if (at >= pat.length) {
        fail('a malformed \\x{...} escape (no closing brace)');
        return -1;
      }
      at++;
      if (digits == 0 || v > 0x10ffff) fail('a malformed \\x{...} escape');
      return v;
    }
    for (let i = 0; i < 2; i++) {
      const h = at < pat.length ? hexDigit(pat[at++]) : -1;
      if (h < 0) {
        fail('a malformed \\x escape');
        return -1;
      }
      v = (v << 4) | h;
    }
    return v;
  }
  if (perlClass(c) !== null) {
    at--;
    return -2;
  }
  // ASCII punctuation stands for itself; letters, digits and non-ASCII characters are refused (as RE2 does).
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c >= 0x80) {
    fail(`the escape \\${String.fromCharCode(c)} is not supported`);
    return -1;
  }
  return c;
}

function parseClass(): void {
  // At the character after '['.
  let negated = false;
  if (at < pat.length && pat[at] == 0x5e) {
    negated = true;
    at++;
  }
  const pairs = new Array<i32>();
  let first = true;
  while (at < pat.length && (pat[at] != 0x5d || first)) {
    first = false;
    let lo = pat[at++];
    if (lo == 0x5b && at < pat.length && pat[at] == 0x3a) {
      fail('POSIX classes ([:alpha:]) are not supported');
      return;
    }
    if (lo == 0x5c) {
      lo = escapeChar();
      if (lo == -2) {
        const cls = <i32[]>perlClass(pat[at++]);
        for (let i = 0; i < cls.length; i++) pairs.push(cls[i]);
        if (at + 1 < pat.length && pat[at] == 0x2d && pat[at + 1] != 0x5d) {
          fail('a range from a class (like [\\d-z]) is not a range');
          return;
        }
        continue;
      }
      if (lo < 0) return;
    }
    let hi = lo;
    if (at + 1 < pat.length && pat[at] == 0x2d && pat[at + 1] != 0x5d) {
      at++;
      hi = pat[at++];
      if (hi == 0x5c) {
        hi = escapeChar();
        if (hi < 0) {
          fail('a class range ends in a class');
          return;
        }
      }
      if (hi < lo) {
        fail('a class range out of order');
        return;
      }
    }
    if (foldCase && hi >= 0x80) {
      fail('(?i) with non-ASCII characters in the pattern is not supported');
      return;
    }
    pairs.push(lo);
    pairs.push(hi);
  }
  if (at >= pat.length) {
    fail('a missing ]');
    return;
  }
  at++;
  emit(OP_CHAR, newClass(sortRanges(pairs), negated), 0);
}

function sortRanges(pairs: i32[]): i32[] {
  // Insertion sort by start (classes are small), then merge.
  const n = pairs.length >> 1;
  for (let i = 1; i < n; i++) {
    const a = pairs[2 * i];
    const b = pairs[2 * i + 1];
    let j = i - 1;
    while (j >= 0 && pairs[2 * j] > a) {
      pairs[2 * j + 2] = pairs[2 * j];
      pairs[2 * j + 3] = pairs[2 * j + 1];
      j--;
    }
    pairs[2 * j + 2] = a;
    pairs[2 * j + 3] = b;
  }
  return pairs;
}

/** One atom, compiled; false when there is none here (an operator or the end). */
function parseAtom(): bool {
  if (at >= pat.length) return false;
  const c = pat[at];
  if (c == 0x7c || c == 0x29) return false;
  at++;
  if (c == 0x28) {
    if (++depth > 100) {
      fail('the pattern nests too deeply');
      return false;
    }
    if (at + 1 < pat.length && pat[at] == 0x3f) {
      if (pat[at + 1] == 0x3a) at += 2;
      else if (pat[at + 1] == 0x50 || pat[at + 1] == 0x3c) {
        // (?P<name>...) and (?<name>...): named groups match as groups.
        while (at < pat.length && pat[at] != 0x3e) at++;
        at++;
      } else {
        fail('group flags inside the pattern are not supported (only at its start)');
        return false;
      }
    }
    parseAlternation();
    depth--;
    if (at >= pat.length || pat[at] != 0x29) {
      fail('a missing )');
      return false;
    }
    at++;
    return true;
  }
  if (c == 0x5b) {
    parseClass();
    return true;
  }
  if (c == 0x2e) {
    emit(OP_ANY, dotAll ? 1 : 0, 0);
    return true;
  }
  if (c == 0x5e) {
    emit(OP_BEGIN, multiLine ? 1 : 0, 0);
    return true;
  }
  if (c == 0x24) {
    emit(OP_END, multiLine ? 1 : 0, 0);
    return true;
  }
  if (c == 0x2a || c == 0x2b || c == 0x3f) {
    fail('a repetition of nothing');
    return false;
  }
  let cp = c;
  if (c == 0x5c) {
    if (at < pat.length && (pat[at] == 0x41 || pat[at] == 0x7a)) {
      emit(pat[at] == 0x41 ? OP_BEGIN : OP_END, 0, 0);
      at++;
      return true;
    }
    cp = escapeChar();
    if (cp == -2) {
      emit(OP_CHAR, newClass(<i32[]>perlClass(pat[at++]), false), 0);
      return true;
    }
    if (cp < 0) return false;
  }
  if (foldCase && cp >= 0x80) {
    fail('(?i) with non-ASCII characters in the pattern is not supported');
    return false;
  }
  emit(OP_CHAR, newClass([cp, cp], false), 0);
  return true;
}

/** Shifts instructions [from, end) by `by` positions up, fixing jump targets into that range. */
function insertAt(from: i32, count: i32): void {
  for (let k = 0; k < count; k++) {
    ops.push(0);
    arg1.push(0);
    arg2.push(0);
  }
  for (let i = ops.length - 1; i >= from + count; i--) {
    ops[i] = ops[i - count];
    arg1[i] = arg1[i - count];
    arg2[i] = arg2[i - count];
  }
  // A jump from before the insertion to `from` means the start of what is there: now the inserted instructions. A
  // jump from the moved instructions to `from` means their own first instruction, which moved with them.
  for (let i = 0; i < ops.length; i++) {
    if (i >= from && i < from + count) continue;
    if (ops[i] == OP_SPLIT || ops[i] == OP_JMP) {
      const moved = i >= from + count;
      if (moved ? arg1[i] >= from : arg1[i] > from) arg1[i] += count;
      if (ops[i] == OP_SPLIT && (moved ? arg2[i] >= from : arg2[i] > from)) arg2[i] += count;
    }
  }
}

/** A copy of instructions [from, to) appended at the end, targets moved with it. */
function copyFragment(from: i32, to: i32): void {
  const shift = ops.length - from;
  for (let i = from; i < to; i++) {
    const op = ops[i];
    let a = arg1[i];
    let b = arg2[i];
    if (op == OP_SPLIT || op == OP_JMP) {
      a += shift;
      if (op == OP_SPLIT) b += shift;
    }
    emit(op, a, b);
  }
}

function parseRepetition(): bool {
  const start = ops.length;
  if (!parseAtom()) return false;
  while (at < pat.length && error === null) {
    const c = pat[at];
    let lo = 0;
    let hi = -1; // unbounded
    if (c == 0x2a) at++;
    else if (c == 0x2b) {
      at++;
      lo = 1;
    } else if (c == 0x3f) {
      at++;
      hi = 1;
    } else if (c == 0x7b) {
      // {n}, {n,}, {n,m}; anything else is a literal brace (RE2 reads it so).
      let p = at + 1;
      let n = 0;
      let digits = 0;
      // Counts stop growing past 1001 (refused below): a long count must not wrap.
      while (p < pat.length && pat[p] >= 0x30 && pat[p] <= 0x39) (n = min(n * 10 + pat[p++] - 0x30, 1001), digits++);
      if (digits == 0 || p >= pat.length) break;
      let m = n;
      if (pat[p] == 0x2c) {
        p++;
        m = -1;
        let d2 = 0;
        let v = 0;
        while (p < pat.length && pat[p] >= 0x30 && pat[p] <= 0x39) (v = min(v * 10 + pat[p++] - 0x30, 1001), d2++);
        if (d2 > 0) m = v;
      }
      if (p >= pat.length || pat[p] != 0x7d) break;
      at = p + 1;
      if (n > 1000 || m > 1000 || (m >= 0 && m < n)) {
        fail('a repetition count above 1000 or out of order');
        return false;
      }
      lo = n;
      hi = m;
    } else break;
    if (at < pat.length && pat[at] == 0x3f) at++; // lazy: the same yes/no answer
    // RE2 refuses a repetition of a repetition (`a**`, `a+*`): group it to mean it.
    const countFollows = at + 1 < pat.length && pat[at] == 0x7b && pat[at + 1] >= 0x30 && pat[at + 1] <= 0x39;
    if (at < pat.length && (pat[at] == 0x2a || pat[at] == 0x2b || pat[at] == 0x3f || countFollows)) {
      fail('a repetition of a repetition (bad repetition operator)');
      return false;
    }
    const end = ops.length;
    // x{lo,hi}: lo copies of x, then (hi - lo) optional copies, or x* when unbounded.
    const fragmentFrom = start;
    const fragmentLen = end - start;
    if (lo == 0) {
      // Take the fragment out, then put it back after the split(s) that make it optional.
      const savedOps = ops.slice(start, end);
      const savedA = arg1.slice(start, end);
      const savedB = arg2.slice(start, end);
      ops.length = start;
      arg1.length = start;
      arg2.length = start;
      if (hi == -1) {
        const split = emit(OP_SPLIT, 0, 0);
        putBack(savedOps, savedA, savedB, fragmentFrom);
        emit(OP_JMP, split, 0);
        arg1[split] = split + 1;
        arg2[split] = ops.length;
      } else {
        const splits = new Array<i32>();
        for (let k = 0; k < hi; k++) {
          const s = emit(OP_SPLIT, 0, 0);
          splits.push(s);
          arg1[s] = s + 1;
          putBack(savedOps, savedA, savedB, fragmentFrom);
        }
        for (let k = 0; k < splits.length; k++) arg2[splits[k]] = ops.length;
      }
    } else {
      for (let k = 1; k < lo; k++) copyFragment(fragmentFrom, fragmentFrom + fragmentLen);
      if (hi == -1) {
        // One more copy's loop: the last copy may repeat.
        const lastFrom = ops.length - fragmentLen;
        emit(OP_SPLIT, lastFrom, ops.length + 1);
      } else {
        const splits = new Array<i32>();
        for (let k = lo; k < hi; k++) {
          const s = emit(OP_SPLIT, 0, 0);
          splits.push(s);
          arg1[s] = s + 1;
          copyFragment(fragmentFrom, fragmentFrom + fragmentLen);
        }
        for (let k = 0; k < splits.length; k++) arg2[splits[k]] = ops.length;
      }
    }
    if (error !== null) return false;
  }
  return true;
}

/** Appends a saved fragment (taken from `from`) at the end, its targets moved with it. */
function putBack(savedOps: i32[], savedA: i32[], savedB: i32[], from: i32): void {
  const shift = ops.length - from;
  for (let i = 0; i < savedOps.length; i++) {
    const op = savedOps[i];
    let a = savedA[i];
    let b = savedB[i];
    if (op == OP_SPLIT || op == OP_JMP) {
      a += shift;
      if (op == OP_SPLIT) b += shift;
    }
    emit(op, a, b);
  }
}

function parseConcatenation(): void {
  while (error === null && parseRepetition()) {}
}

function parseAlternation(): void {
  const start = ops.length;
  parseConcatenation();
  while (error === null && at < pat.length && pat[at] == 0x7c) {
    at++;
    // SPLIT start, next; left ends with a JMP to the end.
    insertAt(start, 1);
    ops[start] = OP_SPLIT;
    arg1[start] = start + 1;
    const jmp = emit(OP_JMP, 0, 0);
    arg2[start] = ops.length;
    parseConcatenation();
    arg1[jmp] = ops.length;
  }
}

/** Compiles `pattern` (code points); null on success, else the message. */
function compile(pattern: i32[]): string | null {
  ops = new Array<i32>();
  arg1 = new Array<i32>();
  arg2 = new Array<i32>();
  ranges = new Array<i32>();
  classStart = new Array<i32>();
  classCount = new Array<i32>();
  classNeg = new Array<bool>();
  pat = pattern;
  at = 0;
  error = null;
  depth = 0;
  foldCase = dotAll = multiLine = false;
  // Leading flags: (?i), (?s), (?m), combined.
  if (pat.length >= 3 && pat[0] == 0x28 && pat[1] == 0x3f && pat[2] != 0x3a && pat[2] != 0x50 && pat[2] != 0x3c) {
    let p = 2;
    while (p < pat.length && pat[p] != 0x29) {
      const f = pat[p++];
      if (f == 0x69) foldCase = true;
      else if (f == 0x73) dotAll = true;
      else if (f == 0x6d) multiLine = true;
      else return 'unsupported flags';
    }
    if (p >= pat.length) return 'missing ) after the flags';
    at = p + 1;
  }
  // Case folding here is ASCII's (plus the two characters Unicode folds into ASCII letters, in the text): a pattern
  // with non-ASCII characters would need Unicode's folding, which RE2 applies. Refused rather than answered wrongly.
  if (foldCase) for (let i = at; i < pat.length; i++) if (pat[i] >= 0x80) return '(?i) with non-ASCII characters in the pattern is not supported';
  parseAlternation();
  if (error === null && at < pat.length) fail(pat[at] == 0x29 ? 'an unexpected )' : 'unexpected text in the pattern');
  emit(OP_MATCH, 0, 0);
  return error;
}

function inClass(k: i32, c: i32): bool {
  const from = classStart[k];
  const n = classCount[k];
  let found = false;
  for (let i = 0; i < n; i++) {
    if (c >= ranges[from + 2 * i] && c <= ranges[from + 2 * i + 1]) {
      found = true;
      break;
    }
  }
  return found != classNeg[k];
}

// The Pike VM: a sparse set of program counters per text position.
let current = new Array<i32>();
let nextList = new Array<i32>();
let onList = new Array<i32>(); // generation mark per instruction
let generation = 0;
const stack = new Array<i32>();

function addThread(list: Array<i32>, pc0: i32, text: i32[], pos: i32): bool {
  stack.length = 0;
  stack.push(pc0);
  while (stack.length > 0) {
    const pc = stack.pop();
    if (onList[pc] == generation) continue;
    onList[pc] = generation;
    const op = ops[pc];
    if (op == OP_MATCH) return true;
    if (op == OP_JMP) stack.push(arg1[pc]);
    else if (op == OP_SPLIT) {
      stack.push(arg2[pc]);
      stack.push(arg1[pc]);
    } else if (op == OP_BEGIN) {
      if (pos == 0 || (arg1[pc] == 1 && text[pos - 1] == 10)) stack.push(pc + 1);
    } else if (op == OP_END) {
      if (pos == text.length || (arg1[pc] == 1 && text[pos] == 10)) stack.push(pc + 1);
    } else list.push(pc);
  }
  return false;
}

/** Whether `pattern` matches somewhere in `text` (code points): 1, 0, or -1 with the message in `regexError`. */
export let regexError: string = '';
export let regexWork: i64 = 0;
export function regexMatches(pattern: i32[], text: i32[], budget: i64 = MAX_WORK): i32 {
  const problem = compile(pattern);
  if (problem !== null) {
    regexError = problem;
    return -1;
  }
  if (foldCase) {
    // KELVIN SIGN and LATIN SMALL LETTER LONG S fold to k and s: the only non-ASCII characters whose fold orbits
    // hold ASCII letters.
    const folded = new Array<i32>(text.length);
    for (let i = 0; i < text.length; i++) folded[i] = text[i] == 0x212a ? 0x6b : text[i] == 0x17f ? 0x73 : text[i];
    text = folded;
  }
  // Work: each position may visit every instruction, and a class instruction scans its ranges.
  regexWork = <i64>(text.length + 1) * (<i64>ops.length + <i64>(ranges.length >> 1));
  if (regexWork > MAX_WORK || regexWork > budget) {
    regexError = 'the text and pattern are too large to match within the limit';
    return -2;
  }
  onList = new Array<i32>(ops.length);
  for (let i = 0; i < ops.length; i++) onList[i] = -1;
  generation = 0;
  current = new Array<i32>();
  nextList = new Array<i32>();
  for (let pos = 0; pos <= text.length; pos++) {
    // A new thread at every position: an unanchored search.
    if (addThread(current, 0, text, pos)) return 1;
    if (pos == text.length) break;
    generation++;
    nextList.length = 0;
    const c = text[pos];
    for (let i = 0; i < current.length; i++) {
      const pc = current[i];
      const op = ops[pc];
      let ok = false;
      if (op == OP_ANY) ok = arg1[pc] == 1 || c != 10;
      else if (op == OP_CHAR) ok = inClass(arg1[pc], c);
      if (ok && addThread(nextList, pc + 1, text, pos + 1)) return 1;
    }
    const t = current;
    current = nextList;
    nextList = t;
  }
  return 0;
}
