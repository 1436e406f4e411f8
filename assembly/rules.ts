// The artifact-rule queue of in-toto 1.3.1 (`verifylib.verify_item_rules` and the `verify_*_rule`
// functions it calls), applied to stored link tables (artifacts.ts) from a JSON program, with every failure
// and the trace of what each rule consumed written back as JSON. See docs/ABI.md, "Artifact rules".
//
// For each item (a step, or later an inspection) and each side (materials, then products): the queue starts
// as every artifact path of that side of the item's own link; rules run in order; what a rule consumes
// leaves the queue; an implicit ALLOW * ends the list. DISALLOW fails when its pattern matches anything
// still queued, REQUIRE when its literal name is not queued. The reference stops at the first failure; we
// go on (a failing rule consumes nothing, so the queue is what it would have been) and report them all.

import { Region, Words } from './buffers';
import { OK, E_PROGRAM, E_NO_SLOT } from './errors';
import {
  K_OBJECT, K_ARRAY, K_STRING, K_NUMBER, parse, findMember, kindOf, word, skip, errorOffset,
} from './json';
import { output } from './canonical';
import { Link, Side, linkAt } from './artifacts';
import { compileGlob, globMatch } from './glob';
import { compareBytes } from './sort';

/** `flags` bit: write the trace (what each rule consumed, what the implicit ALLOW * took). */
export const TRACE: u32 = 1;

// ---------------------------------------------------------------------------------------------------------
// The result writer: JSON into the shared output region, grown as needed.

let outLen: usize = 0;

@inline function reserve(n: usize): usize {
  return output.ensure(outLen + n, true) + outLen;
}

function raw(text: string): void {
  // Only ASCII literals of this file pass here.
  const n = <usize>text.length;
  const at = reserve(n);
  for (let i: usize = 0; i < n; i++) store<u8>(at + i, <u8>text.charCodeAt(<i32>i));
  outLen += n;
}

function uint(v: u32): void {
  const at = reserve(10);
  let digits: usize = 1;
  for (let x = v; x >= 10; x /= 10) digits++;
  let x = v;
  for (let i = digits; i > 0; i--) {
    store<u8>(at + i - 1, <u8>(0x30 + x % 10));
    x /= 10;
  }
  outLen += digits;
}

const HEX = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);

/** A JSON string any parser reads back: `"` and `\` escaped, control characters as \u00XX, UTF-8 raw. */
function str(ptr: usize, len: u32): void {
  let at = reserve(<usize>len * 6 + 2);
  const start = at;
  store<u8>(at++, 0x22);
  for (let i: u32 = 0; i < len; i++) {
    const c = <u32>load<u8>(ptr + i);
    if (c == 0x22 || c == 0x5c) {
      store<u8>(at++, 0x5c);
      store<u8>(at++, <u8>c);
    } else if (c < 0x20) {
      store<u8>(at, 0x5c);
      store<u8>(at + 1, 0x75);
      store<u8>(at + 2, 0x30);
      store<u8>(at + 3, 0x30);
      store<u8>(at + 4, load<u8>(HEX + (c >> 4)));
      store<u8>(at + 5, load<u8>(HEX + (c & 0xf)));
      at += 6;
    } else {
      store<u8>(at++, <u8>c);
    }
  }
  store<u8>(at++, 0x22);
  outLen += at - start;
}

// ---------------------------------------------------------------------------------------------------------
// Rules.

const R_MATCH: u32 = 1;
const R_CREATE: u32 = 2;
const R_DELETE: u32 = 3;
const R_MODIFY: u32 = 4;
const R_ALLOW: u32 = 5;
const R_DISALLOW: u32 = 6;
const R_REQUIRE: u32 = 7;

// The rule being applied (filled by parseRule).
let ruleKind: u32 = 0;
let pattern: u32 = 0; // string node: the pattern, or REQUIRE's file name
let srcPrefix: u32 = 0; // string node or 0 (absent or empty: python tests the prefix for truth)
let dstPrefix: u32 = 0;
let dstProducts = false;
let dstLink: Link | null = null;

let linksObject: u32 = 0;

function programError(node: u32): i32 {
  // Point at the node when it has an input offset (strings and numbers do), else leave the offset alone.
  const k = kindOf(node);
  if (k == K_STRING || k == K_NUMBER) errorOffset = word(node, 3);
  return E_PROGRAM;
}

/** ASCII case-insensitive comparison of a string node with a lowercase keyword. python lowercases the whole
 *  token; no non-ASCII character lowercases to a letter of a keyword (U+212A KELVIN SIGN gives `k`, which
 *  none contains), so comparing ASCII case-insensitively is the same test. */
function isKeyword(node: u32, keyword: string): bool {
  const len = word(node, 2);
  if (len != <u32>keyword.length) return false;
  const ptr = word(node, 1);
  for (let i: u32 = 0; i < len; i++) {
    const c = <u32>load<u8>(ptr + i);
    const k = <u32>keyword.charCodeAt(i);
    if (c != k && c != k - 0x20) return false;
  }
  return true;
}

/** Whether token i of the rule (an array of string nodes) is the keyword. */
@inline function tokenIs(rule: u32, i: u32, keyword: string): bool {
  return isKeyword(rule + 1 + i, keyword);
}

/** The string node, or 0 when it is empty (python's `if rule_data["source_prefix"]:` treats "" as absent). */
@inline function prefixNode(node: u32): u32 {
  return word(node, 2) == 0 ? 0 : node;
}

/** The slot number of a link-map value (a non-negative integer below 2^31), or -1. */
function slotNumber(node: u32): i64 {
  if (kindOf(node) != K_NUMBER) return -1;
  const ptr = word(node, 1);
  const len = word(node, 2);
  if (len > 10) return -1;
  let v: i64 = 0;
  for (let i: u32 = 0; i < len; i++) {
    const d = <i64>load<u8>(ptr + i) - 0x30;
    if (d < 0 || d > 9) return -1; // a minus sign
    v = v * 10 + d;
  }
  return v > 0x7fffffff ? -1 : v;
}

/** The link named by string node `name` in the program's `links`, or null when the name is not there. */
function linkNamed(name: u32): Link | null {
  const value = findMember(linksObject, word(name, 1), word(name, 2));
  if (value < 0) return null;
  return linkAt(<u32>slotNumber(<u32>value)); // values were checked when the program was read
}

/**
 * Reads one rule, a JSON array of strings: the layout's own token list, with python's `unpack_rule` grammar.
 *   MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>
 *   CREATE|DELETE|MODIFY|ALLOW|DISALLOW <pattern>     REQUIRE <file>
 * Keywords in any case; the token count and keyword positions decide the MATCH form.
 */
function parseRule(rule: u32): i32 {
  if (kindOf(rule) != K_ARRAY) return programError(rule);
  const n = word(rule, 1);
  for (let i: u32 = 0; i < n; i++) {
    // Strings are one tape node each, so token i is node rule + 1 + i once all before it are strings.
    if (kindOf(rule + 1 + i) != K_STRING) return programError(rule + 1 + i);
  }
  if (n < 2) return programError(n == 1 ? rule + 1 : rule);
  const t0 = rule + 1;
  pattern = rule + 2;
  srcPrefix = dstPrefix = 0;
  dstLink = null;
  if (isKeyword(t0, 'match')) {
    ruleKind = R_MATCH;
    let dst: u32 = 0;
    let step: u32 = 0;
    if (n == 10 && tokenIs(rule, 2, 'in') && tokenIs(rule, 4, 'with') && tokenIs(rule, 6, 'in') && tokenIs(rule, 8, 'from')) {
      srcPrefix = prefixNode(rule + 4);
      dst = rule + 6;
      dstPrefix = prefixNode(rule + 8);
      step = rule + 10;
    } else if (n == 8 && tokenIs(rule, 2, 'in') && tokenIs(rule, 4, 'with') && tokenIs(rule, 6, 'from')) {
      srcPrefix = prefixNode(rule + 4);
      dst = rule + 6;
      step = rule + 8;
    } else if (n == 8 && tokenIs(rule, 2, 'with') && tokenIs(rule, 4, 'in') && tokenIs(rule, 6, 'from')) {
      dst = rule + 4;
      dstPrefix = prefixNode(rule + 6);
      step = rule + 8;
    } else if (n == 6 && tokenIs(rule, 2, 'with') && tokenIs(rule, 4, 'from')) {
      dst = rule + 4;
      step = rule + 6;
    } else return programError(t0);
    if (isKeyword(dst, 'products')) dstProducts = true;
    else if (isKeyword(dst, 'materials')) dstProducts = false;
    else return programError(dst);
    dstLink = linkNamed(step);
    return OK;
  }
  if (isKeyword(t0, 'create')) ruleKind = R_CREATE;
  else if (isKeyword(t0, 'delete')) ruleKind = R_DELETE;
  else if (isKeyword(t0, 'modify')) ruleKind = R_MODIFY;
  else if (isKeyword(t0, 'allow')) ruleKind = R_ALLOW;
  else if (isKeyword(t0, 'disallow')) ruleKind = R_DISALLOW;
  else if (isKeyword(t0, 'require')) ruleKind = R_REQUIRE;
  else return programError(t0);
  if (n != 2) return programError(t0);
  return OK;
}

// ---------------------------------------------------------------------------------------------------------
// The queue of one item side.

const queue = new Words(); // entries of the source side still queued, in path order
/** Per source entry: 0 not queued, 1 queued, 2 queued and consumed by the rule being applied. */
const state = new Region();
const found = new Words(); // DISALLOW matches, or MATCH entries whose source path is missing
const missing = new Words(); // for the latter: offset, length of the computed source path in `paths`
const paths = new Region(); // computed source paths of MATCH failures
const srcNorm = new Region(); // the normalized source prefix
const dstNorm = new Region();
const joined = new Region(); // a path built from a prefix and a stripped path
let failures: u32 = 0;

@inline function consume(j: u32): void {
  const at = state.ptr + j;
  if (load<u8>(at) == 1) store<u8>(at, 2);
}

/**
 * python's `os.path.join(prefix, "").replace("\\", "/")` for a non-empty prefix: a `/` is added unless it
 * ends with one, then every backslash becomes a slash. Written to `into`; returns its length.
 */
function normalizePrefix(node: u32, into: Region): u32 {
  const ptr = word(node, 1);
  const len = word(node, 2);
  const slash = load<u8>(ptr + len - 1) == 0x2f;
  const n = slash ? len : len + 1;
  const dst = into.ensure(n);
  for (let i: u32 = 0; i < len; i++) {
    const c = load<u8>(ptr + i);
    store<u8>(dst + i, c == 0x5c ? 0x2f : c);
  }
  if (!slash) store<u8>(dst + len, 0x2f);
  return n;
}

/**
 * python's `os.path.join(prefix, s).replace("\\", "/")` given the normalized prefix: an absolute `s`
 * (starting with `/`) replaces the prefix altogether. Written to `joined`; returns its length.
 */
function joinPath(norm: usize, normLen: u32, s: usize, sLen: u32): u32 {
  const absolute = sLen > 0 && load<u8>(s) == 0x2f;
  const head = absolute ? 0 : normLen;
  const dst = joined.ensure(head + sLen);
  memory.copy(dst, norm, head);
  for (let i: u32 = 0; i < sLen; i++) {
    const c = load<u8>(s + i);
    store<u8>(dst + head + i, c == 0x5c ? 0x2f : c);
  }
  return head + sLen;
}

/** True when a stripped path would not join back to itself: it is absolute or holds a backslash. */
function rejoinsElsewhere(s: usize, len: u32): bool {
  if (len > 0 && load<u8>(s) == 0x2f) return true;
  for (let i: u32 = 0; i < len; i++) if (load<u8>(s + i) == 0x5c) return true;
  return false;
}

@inline function sameDigest(a: Side, i: u32, b: Side, j: u32): bool {
  return compareBytes(<u32>a.digestPtr(i), a.digestLen(i), <u32>b.digestPtr(j), b.digestLen(j)) == 0;
}

/**
 * MATCH (verifylib `verify_match_rule`): queued paths under the source prefix (a literal prefix, stripped
 * before the glob), matching the pattern, are consumed when the named link's chosen side has the same path
 * under the destination prefix with an equal digest dict. With no such link the rule consumes nothing.
 *
 * Corner kept from the reference: the source artifact is looked up again by `join(source prefix, stripped
 * path)`, which is not the queued path when the stripped path is absolute or holds a backslash; python then
 * consumes that other path, or, when it is not an artifact at all, raises KeyError and verification fails.
 * That last case is reported as a RULE_MATCH failure.
 */
function applyMatch(src: Side): void {
  const dest = dstLink;
  if (dest === null) return;
  const destSide = dstProducts ? dest.products : dest.materials;
  const srcLen = srcPrefix != 0 ? normalizePrefix(srcPrefix, srcNorm) : 0;
  const dstLen = dstPrefix != 0 ? normalizePrefix(dstPrefix, dstNorm) : 0;
  // Both sides hold one table (they record exactly the same artifacts): a looked-up path that is the queued
  // entry's own path is that entry (paths in a table are distinct), with the same digest, found without hashing.
  const shared = destSide.table === src.table;
  const n = queue.len;
  for (let qi: u32 = 0; qi < n; qi++) {
    const q = queue.get(qi);
    const path = src.pathPtr(q);
    const pathLen = src.pathLen(q);
    let s = path;
    let sLen = pathLen;
    if (srcPrefix != 0) {
      if (pathLen < srcLen || compareBytes(<u32>path, srcLen, <u32>srcNorm.ptr, srcLen) != 0) continue;
      s = path + srcLen;
      sLen = pathLen - srcLen;
    }
    if (!globMatch(s, sLen)) continue;
    let j = <i32>q;
    if (srcPrefix != 0 && rejoinsElsewhere(s, sLen)) {
      const len = joinPath(srcNorm.ptr, srcLen, s, sLen);
      j = src.find(joined.ptr, len);
      if (j < 0) {
        // python: KeyError in `source_artifacts[full_source_path]`, verification aborted.
        found.set(found.grow(1), q);
        const at = missing.grow(2);
        const off = at == 0 ? 0 : missing.get(at - 2) + missing.get(at - 1);
        memory.copy(paths.ensure(off + len, true) + off, joined.ptr, len);
        missing.set(at, off);
        missing.set(at + 1, len);
        continue;
      }
    }
    let d: i32;
    if (dstPrefix != 0) {
      const len = joinPath(dstNorm.ptr, dstLen, s, sLen);
      d = shared && len == pathLen && memory.compare(joined.ptr, path, len) == 0 ? <i32>q : destSide.find(joined.ptr, len);
    } else {
      d = shared && s == path ? <i32>q : destSide.find(s, sLen); // python looks up the stripped path itself, unjoined
    }
    if (d >= 0 && ((shared && d == j) || sameDigest(src, <u32>j, destSide, <u32>d))) consume(<u32>j);
  }
}

function writeFoundPaths(src: Side): void {
  raw('"artifacts":[');
  for (let i: u32 = 0; i < found.len; i++) {
    if (i > 0) raw(',');
    const e = found.get(i);
    str(src.pathPtr(e), src.pathLen(e));
  }
  raw(']');
}

/** Applies one rule to the queue and writes its result object. */
function applyRule(src: Side, other: Side, srcIsProducts: bool, trace: bool): void {
  found.reset();
  missing.reset();
  const n = queue.len;
  const kind = ruleKind;
  if (kind == R_REQUIRE) {
    const j = src.find(word(pattern, 1), word(pattern, 2));
    if (j < 0 || load<u8>(state.ptr + <usize>j) == 0) {
      failures++;
      raw('{"code":"RULE_REQUIRE","artifacts":[');
      str(word(pattern, 1), word(pattern, 2));
      raw(trace ? '],"consumed":[]}' : ']}');
    } else {
      raw(trace ? '{"consumed":[]}' : '{}');
    }
    return;
  }
  compileGlob(word(pattern, 1), word(pattern, 2));
  if (kind == R_MATCH) {
    applyMatch(src);
  } else {
    for (let qi: u32 = 0; qi < n; qi++) {
      const q = queue.get(qi);
      if (!globMatch(src.pathPtr(q), src.pathLen(q))) continue;
      if (kind == R_ALLOW) consume(q);
      else if (kind == R_DISALLOW) found.set(found.grow(1), q);
      else if (kind == R_CREATE) {
        // products - materials: on the materials side nothing qualifies.
        if (srcIsProducts && src.partnerOf(q, other) == 0) consume(q);
      } else if (kind == R_DELETE) {
        if (!srcIsProducts && src.partnerOf(q, other) == 0) consume(q);
      } else if (kind == R_MODIFY) {
        const p = src.partnerOf(q, other);
        if (p != 0 && !sameDigest(src, q, other, p - 1)) consume(q);
      }
    }
  }
  raw('{');
  let comma = false;
  if (found.len > 0) {
    failures++;
    if (kind == R_DISALLOW) {
      raw('"code":"RULE_DISALLOW",');
      writeFoundPaths(src);
    } else {
      raw('"code":"RULE_MATCH",');
      writeFoundPaths(src);
      raw(',"sources":[');
      for (let i: u32 = 0; i < missing.len; i += 2) {
        if (i > 0) raw(',');
        str(paths.ptr + missing.get(i), missing.get(i + 1));
      }
      raw(']');
    }
    comma = true;
  }
  // Leave the queue: everything marked consumed goes, in path order, into the trace.
  if (trace) raw(comma ? ',"consumed":[' : '"consumed":[');
  let kept: u32 = 0;
  let written: u32 = 0;
  for (let qi: u32 = 0; qi < n; qi++) {
    const q = queue.get(qi);
    const at = state.ptr + q;
    if (load<u8>(at) == 2) {
      store<u8>(at, 0);
      if (trace) {
        if (written++ > 0) raw(',');
        str(src.pathPtr(q), src.pathLen(q));
      }
    } else {
      queue.set(kept++, q);
    }
  }
  queue.len = kept;
  if (trace) raw(']');
  raw('}');
}

/** Runs one side's rule list (array node `rules`) for the item whose link is `link`. */
function runSide(link: Link, srcIsProducts: bool, rules: u32, trace: bool): i32 {
  if (kindOf(rules) != K_ARRAY) return programError(rules);
  const src = srcIsProducts ? link.products : link.materials;
  const other = srcIsProducts ? link.materials : link.products;
  const count = src.count;
  queue.reset();
  queue.grow(count);
  for (let i: u32 = 0; i < count; i++) queue.set(i, i);
  memory.fill(state.ensure(count), 1, count);
  raw('{"rules":[');
  const n = word(rules, 1);
  let rule = rules + 1;
  for (let i: u32 = 0; i < n; i++) {
    const e = parseRule(rule);
    if (e != OK) return e;
    if (i > 0) raw(',');
    applyRule(src, other, srcIsProducts, trace);
    rule = skip(rule);
  }
  raw(']');
  if (trace) {
    // The implicit ALLOW * takes what is left.
    raw(',"allowed":[');
    for (let qi: u32 = 0; qi < queue.len; qi++) {
      if (qi > 0) raw(',');
      const q = queue.get(qi);
      str(src.pathPtr(q), src.pathLen(q));
    }
    raw(']');
  }
  raw('}');
  return OK;
}

const LINKS = memory.data<u8>([0x6c, 0x69, 0x6e, 0x6b, 0x73]);
const ITEMS = memory.data<u8>([0x69, 0x74, 0x65, 0x6d, 0x73]);
const NAME = memory.data<u8>([0x6e, 0x61, 0x6d, 0x65]);
const MATERIALS = memory.data<u8>([0x6d, 0x61, 0x74, 0x65, 0x72, 0x69, 0x61, 0x6c, 0x73]);
const PRODUCTS = memory.data<u8>([0x70, 0x72, 0x6f, 0x64, 0x75, 0x63, 0x74, 0x73]);

/** Member `name` of `obj` that must be present; 0 when missing (node 0 is the root, never a member). */
function required(obj: u32, name: usize, len: u32): u32 {
  const v = findMember(obj, name, len);
  return v < 0 ? 0 : <u32>v;
}

/**
 * Parses the program in the input region and applies it. Returns OK with the result JSON in the output
 * region (its length through `resultLength`), or an error code.
 */
export function applyRules(len: u32, flags: u32): i32 {
  outLen = 0;
  failures = 0;
  const code = parse(len);
  if (code != OK) return code;
  const trace = (flags & TRACE) != 0;
  if (kindOf(0) != K_OBJECT || word(0, 1) != 2) return E_PROGRAM;
  linksObject = required(0, LINKS, 5);
  const items = required(0, ITEMS, 5);
  if (linksObject == 0 || items == 0) return E_PROGRAM;
  if (kindOf(linksObject) != K_OBJECT || kindOf(items) != K_ARRAY) return E_PROGRAM;
  // Every named slot must hold a link, checked once here so rules can rely on it.
  let key = linksObject + 1;
  for (let i: u32 = 0; i < word(linksObject, 1); i++) {
    const slot = slotNumber(key + 1);
    if (slot < 0) return programError(key + 1);
    if (linkAt(<u32>slot) === null) {
      errorOffset = word(key + 1, 3);
      return E_NO_SLOT;
    }
    key = skip(key + 1);
  }
  raw('{"items":[');
  const n = word(items, 1);
  let item = items + 1;
  for (let i: u32 = 0; i < n; i++) {
    if (kindOf(item) != K_OBJECT || word(item, 1) != 3) return programError(item);
    const name = required(item, NAME, 4);
    const materials = required(item, MATERIALS, 9);
    const products = required(item, PRODUCTS, 8);
    if (name == 0 || materials == 0 || products == 0 || kindOf(name) != K_STRING) return E_PROGRAM;
    // The item's own link is the one its name maps to, as python reads `links[source_name]`.
    const link = linkNamed(name);
    if (link === null) return programError(name);
    if (i > 0) raw(',');
    raw('{"name":');
    str(word(name, 1), word(name, 2));
    raw(',"materials":');
    let e = runSide(link, false, materials, trace);
    if (e != OK) return e;
    raw(',"products":');
    e = runSide(link, true, products, trace);
    if (e != OK) return e;
    raw('}');
    item = skip(item);
  }
  raw('],"failures":');
  uint(failures);
  raw('}');
  return OK;
}

export function resultLength(): u32 {
  return <u32>outLen;
}
