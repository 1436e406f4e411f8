// The engine's ABI: only numbers cross it. See docs/ABI.md for the contract a host follows.
//
//   ptr = input(len)            reserve `len` bytes of input; the host writes the document there
//   code = canonicalize(len, s) parse input[0, len) strictly and write its canonical form
//                               (s = 0: the whole document; s = 1: the value of its top-level "signed")
//   code = validate(len)        parse only
//   code = validate_json(len)   parse only, as ordinary JSON (fractions and exponents read); result bit 0x100
//                               set when a number may not be exact as a float64
//   output_ptr(), output_len()  where the canonical bytes are (valid until the next call)
//   error_offset()              the input byte offset of the last error
//   set_max_depth(d), set_max_input(n)   limits

import { OK, E_NOT_AN_OBJECT, E_MISSING_MEMBER, E_TOO_LARGE, E_BAD_ARGUMENT } from './errors';
import { input, parse, setMaxDepth, findMember, kindOf, K_OBJECT, releaseLarge, errorOffset, setFractions, inexactNumbers } from './json';
import { output, writeCanonical, writePlain } from './canonical';
import { Region } from './buffers';

/** Bumped when the ABI changes incompatibly. */
const ABI_VERSION: u32 = 1;
/** Buffers that grew past this are released after the call, so memory returns to a small working set. */
const KEEP_BYTES: u32 = 16 << 20;

let maxInput: u32 = 256 << 20;
let outputLen: u32 = 0;

/** "signed", the Metablock member whose canonical bytes are signed. */
const SIGNED = memory.data<u8>([0x73, 0x69, 0x67, 0x6e, 0x65, 0x64]);

export function abi_version(): u32 {
  return ABI_VERSION;
}

/** Reserves room for a document of `len` bytes and returns where the host must write it. */
export function input_ptr(len: u32): usize {
  return input.ensure(len);
}

export function set_max_depth(depth: u32): i32 {
  if (depth < 1 || depth > 10000) return E_BAD_ARGUMENT;
  setMaxDepth(depth);
  return OK;
}

export function set_max_input(bytes: u32): i32 {
  if (bytes < 1 || bytes > 0x7fff0000) return E_BAD_ARGUMENT;
  maxInput = bytes;
  return OK;
}

export function validate(len: u32): i32 {
  if (len > maxInput) return E_TOO_LARGE;
  // More bytes than `input_ptr` reserved would parse whatever memory lies beyond (a host bug).
  if (!inputHolds(len)) return E_BAD_ARGUMENT;
  return parse(len);
}

/** `validate` for attestation payloads: ordinary JSON numbers read; returns OK | 0x100 when one may be inexact. */
export function validate_json(len: u32): i32 {
  if (len > maxInput) return E_TOO_LARGE;
  if (!inputHolds(len)) return E_BAD_ARGUMENT;
  setFractions(true);
  const code = parse(len);
  const inexact = inexactNumbers;
  setFractions(false);
  if (code != OK) return code;
  return inexact ? 0x100 : OK;
}

export function canonicalize(len: u32, select: u32): i32 {
  outputLen = 0;
  if (len > maxInput) return E_TOO_LARGE;
  if (select > 1 || !inputHolds(len)) return E_BAD_ARGUMENT;
  const code = parse(len);
  if (code != OK) return code;
  let node: u32 = 0;
  if (select == 1) {
    if (kindOf(0) != K_OBJECT) return E_NOT_AN_OBJECT;
    const found = findMember(0, SIGNED, 6);
    if (found < 0) return E_MISSING_MEMBER;
    node = <u32>found;
  }
  outputLen = <u32>writeCanonical(node, len);
  return OK;
}

export function output_ptr(): usize {
  return output.ptr;
}

export function output_len(): u32 {
  return outputLen;
}

export function error_offset(): u32 {
  return errorOffset;
}

/** Releases buffers a large document grew; call when done with the output. */
export function release(): void {
  releaseLarge(KEEP_BYTES);
  output.shrink(KEEP_BYTES);
  aux.shrink(KEEP_BYTES);
  releaseDescriptors(KEEP_BYTES >> 2);
}

// ---------------------------------------------------------------------------------------------------------
// Artifact tables and rules (docs/ABI.md, "Artifact rules"). A link crosses once, as a document in the
// input region; the engine keeps only its artifact tables, in a numbered slot, until the host frees it.
//
//   set_seed(a, b, c, d)          the 128-bit key of the tables' hash (required before link_store)
//   slot = link_store(len, s)     parse input[0, len) and keep its artifact tables (s as for canonicalize)
//   link_free(slot), links_reset()
//   slot = link_compose(a, b)     a new link with a's materials and b's products (a summary link)
//   links_equal(a, b)             1 when both record equal materials and equal products
//   rules_apply(len, flags)       run the JSON rules program in input[0, len); the result JSON is the output
//   glob_match(plen, len)         fnmatch(input[plen, plen + len), pattern input[0, plen))

import { storeLink, storeParsed, writeSideJson, freeLink, resetLinks, composeLink, linksEqual, setSeed, probes, resetProbes, linkAt } from './artifacts';
import { applyRules, resultLength, TRACE } from './rules';
import { compileGlob, globMatch, globSteps, resetGlobSteps, isUtf8 } from './glob';
import { E_INVALID_UTF8 } from './errors';
import { input as inputRegion } from './json';
import { readLinkAttestation, envelopeLength, auxLength, paeLength, releaseDescriptors } from './statement';

/** Whether the input region reserved by the last `input_ptr` holds `len` bytes (a host bug otherwise). */
function inputHolds(len: u64): bool {
  // What `input_ptr` reserved, not the capacity behind it: beyond that lies stale memory.
  return len <= <u64>inputRegion.size;
}

export function set_seed(a: u32, b: u32, c: u32, d: u32): i32 {
  setSeed(a, b, c, d);
  return OK;
}

/** Returns the new slot (>= 0), or a negated error code. The output region is clobbered (length 0). */
export function link_store(len: u32, select: u32): i32 {
  outputLen = 0;
  resetProbes();
  if (len > maxInput) return -E_TOO_LARGE;
  if (select > 1 || !inputHolds(len)) return -E_BAD_ARGUMENT;
  return storeLink(len, select);
}

/** The second output of `link_read`: the link document as plain JSON without its artifacts. */
const aux = new Region();
let auxLen: u32 = 0;

/**
 * Reads a link in one parse, for a host that keeps its artifacts here and parses only the small rest:
 *   - its artifact tables into a new slot (the return value, or a negated error code);
 *   - with flags & 1, the canonical bytes of the link object into the output region (a Metablock's signed
 *     bytes, for its signatures);
 *   - in the aux region, the whole document as plain JSON (canonical, control characters escaped) with the
 *     link's `materials` and `products` written as `{}`.
 * select 1: a Metablock, the link is its `signed`; select 0: the document is the link (a DSSE payload);
 * select 2: a Metablock as for 1, or else a DSSE envelope holding a link attestation (statement.ts), read with the
 * signed bytes (PAE) in the output whatever the flags, and `aux_split()` the lean envelope's length; a DSSE
 * envelope not read that way returns -21 (the host reads it itself).
 * A side with more than `maxArtifacts` entries is refused (-20) before any table is built.
 */
export function link_read(len: u32, select: u32, flags: u32, maxArtifacts: u32): i32 {
  outputLen = 0;
  auxLen = 0;
  auxSplit = 0;
  resetProbes();
  if (len > maxInput) return -E_TOO_LARGE;
  if (select > 2 || flags > 1 || !inputHolds(len)) return -E_BAD_ARGUMENT;
  const code = parse(len);
  if (code != OK) return -code;
  if (kindOf(0) != K_OBJECT) return -E_NOT_AN_OBJECT;
  let root: u32 = 0;
  if (select >= 1) {
    const found = findMember(0, SIGNED, 6);
    if (found < 0) {
      // select 2: no `signed`, so a DSSE envelope, read here when it holds a link attestation.
      if (select == 2 && findMember(0, PAYLOAD, 7) >= 0) return readAttestation(len, maxArtifacts);
      return -E_MISSING_MEMBER;
    }
    root = <u32>found;
    if (kindOf(root) != K_OBJECT) return -E_NOT_AN_OBJECT;
  }
  const slot = storeParsed(root, maxArtifacts);
  if (slot < 0) return slot;
  if ((flags & 1) != 0) outputLen = <u32>writeCanonical(root, len);
  // The lean document is the input less its artifacts: sized by what the tables hold, which is never more than
  // the input bytes the artifacts took (decoded paths, canonical digest dicts), not by the whole input.
  const link = linkAt(<u32>slot)!;
  const artifactBytes = <usize>link.materials.bytesLen + <usize>link.products.bytesLen;
  auxLen = <u32>writePlain(0, root, aux, <usize>len - min<usize>(artifactBytes, <usize>len) + 8);
  return slot;
}

/** "payload", the DSSE member `link_read` with select 2 looks for. */
const PAYLOAD = memory.data<u8>([0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64]);

/** The DSSE branch of `link_read` (statement.ts): the signed bytes in the output, the two lean documents in aux. */
function readAttestation(len: u32, maxArtifacts: u32): i32 {
  const slot = readLinkAttestation(len, maxArtifacts, aux);
  if (slot < 0) return slot;
  outputLen = paeLength;
  auxLen = auxLength;
  auxSplit = envelopeLength;
  return slot;
}

/** After `link_read` read a DSSE envelope (select 2): the length of the lean envelope at the start of aux. 0 after a Metablock. */
let auxSplit: u32 = 0;
export function aux_split(): u32 {
  return auxSplit;
}

export function aux_ptr(): usize {
  return aux.ptr;
}

export function aux_len(): u32 {
  return auxLen;
}

/** Writes side `which` (0 materials, 1 products) of a stored link as a plain JSON object into the output region. */
export function link_side_json(slot: u32, which: u32): i32 {
  outputLen = 0;
  if (which > 1) return -E_BAD_ARGUMENT;
  const n = writeSideJson(slot, which, output);
  if (n < 0) return <i32>n;
  outputLen = <u32>n;
  return OK;
}

export function link_free(slot: u32): i32 {
  return freeLink(slot);
}

export function links_reset(): void {
  resetLinks();
}

export function link_compose(materialsFrom: u32, productsFrom: u32): i32 {
  return composeLink(materialsFrom, productsFrom);
}

export function links_equal(a: u32, b: u32): i32 {
  return linksEqual(a, b);
}

export function rules_apply(len: u32, flags: u32): i32 {
  outputLen = 0;
  resetProbes();
  resetGlobSteps();
  if (len > maxInput) return E_TOO_LARGE;
  if ((flags & ~TRACE) != 0 || !inputHolds(len)) return E_BAD_ARGUMENT;
  const code = applyRules(len, flags);
  if (code == OK) outputLen = resultLength();
  return code;
}

/** 1 when the path matches the pattern, 0 when not, or -E_INVALID_UTF8 / -E_BAD_ARGUMENT. */
export function glob_match(patternLen: u32, pathLen: u32): i32 {
  resetGlobSteps();
  if (!inputHolds(<u64>patternLen + <u64>pathLen)) return -E_BAD_ARGUMENT;
  const p = inputRegion.ptr;
  if (!isUtf8(p, patternLen) || !isUtf8(p + patternLen, pathLen)) return -E_INVALID_UTF8;
  compileGlob(p, patternLen);
  return globMatch(p + patternLen, pathLen) ? 1 : 0;
}

/** Diagnostics: glob steps and hash-table probes of the last glob_match / rules_apply / link_store call. */
export function glob_steps(): u32 {
  return globSteps > 0xffffffff ? 0xffffffff : <u32>globSteps;
}

export function probe_count(): u32 {
  return probes > 0xffffffff ? 0xffffffff : <u32>probes;
}

// ---------------------------------------------------------------------------------------------------------
// CEL (docs/ABI.md, "CEL"): cel_eval(exprLen, actLen) evaluates the expression in input[0, exprLen) with the
// variables of the JSON object in input[exprLen, exprLen + actLen); the result (a typed value as JSON) is the output.

import { celEvaluate, celEvaluateMany } from './cel';

export function cel_eval(exprLen: u32, actLen: u32): i32 {
  outputLen = 0;
  if (<u64>exprLen + <u64>actLen > <u64>maxInput) return E_TOO_LARGE;
  if (!inputHolds(<u64>exprLen + <u64>actLen)) return E_BAD_ARGUMENT;
  const n = celEvaluate(exprLen, actLen, output);
  if (n < 0) return <i32>-n;
  outputLen = <u32>n;
  return OK;
}

// cel_eval_many(exprsLen, actLen): the expressions in input[0, exprsLen), separated by NUL bytes, each evaluated over
// the variables that follow (read once); the output is a JSON array of their outcomes, in order.
export function cel_eval_many(exprsLen: u32, actLen: u32): i32 {
  outputLen = 0;
  if (<u64>exprsLen + <u64>actLen > <u64>maxInput) return E_TOO_LARGE;
  if (!inputHolds(<u64>exprsLen + <u64>actLen)) return E_BAD_ARGUMENT;
  const n = celEvaluateMany(exprsLen, actLen, output, true);
  if (n < 0) return <i32>-n;
  outputLen = <u32>n;
  return OK;
}
