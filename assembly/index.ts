// The engine's ABI: only numbers cross it. See docs/ABI.md for the contract a host follows.
//
//   ptr = input(len)            reserve `len` bytes of input; the host writes the document there
//   code = canonicalize(len, s) parse input[0, len) strictly and write its canonical form
//                               (s = 0: the whole document; s = 1: the value of its top-level "signed")
//   code = validate(len)        parse only
//   output_ptr(), output_len()  where the canonical bytes are (valid until the next call)
//   error_offset()              the input byte offset of the last error
//   set_max_depth(d), set_max_input(n)   limits

import { OK, E_NOT_AN_OBJECT, E_MISSING_MEMBER, E_TOO_LARGE, E_BAD_ARGUMENT } from './errors';
import { input, parse, setMaxDepth, findMember, kindOf, K_OBJECT, releaseLarge, errorOffset } from './json';
import { output, writeCanonical } from './canonical';

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
  return parse(len);
}

export function canonicalize(len: u32, select: u32): i32 {
  outputLen = 0;
  if (len > maxInput) return E_TOO_LARGE;
  if (select > 1) return E_BAD_ARGUMENT;
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
}
