// CEL (the Common Expression Language, github.com/google/cel-spec) in the engine: a lexer, a parser to a tree, and an
// evaluator over typed values, with CEL's semantics for errors (a value, absorbed by && and || when the other side
// decides), integer overflow (an error, never a wrap), heterogeneous numeric comparison and equality, and the macros
// (has, all, exists, exists_one, map, filter). docs/ABI.md, "CEL", is the contract; docs/cel.md what is covered.
//
// Bounded: expression length, nesting depth, evaluation steps (comprehension work included), and the size of any
// string, bytes or list made; every limit is a result of its own (`limit`), never a trap.

import { Region } from './buffers';
import { regexError, regexMatches, regexWork } from './regex';
import { input, parse, setFractions, kindOf, word, skip, K_OBJECT, K_ARRAY, K_STRING, K_NUMBER, K_TRUE, K_FALSE, K_NULL } from './json';

// ---------------------------------------------------------------------------------------------------------
// Limits.

export const MAX_EXPR_BYTES: u32 = 100_000;
const MAX_DEPTH: i32 = 96;
const MAX_STEPS: i64 = 1_000_000;
const MAX_SIZE: i32 = 1 << 20; // elements of a list, or code units of a string / bytes made by evaluation

let steps: i64 = 0;
let limitHit: string | null = null;

/** Longest regular expression `matches` takes. */
const MAX_PATTERN = 4096;

function limit(what: string): ErrVal {
  if (limitHit === null) limitHit = what;
  return new ErrVal(what);
}

/**
 * Charges `units` of work to the step budget: operations whose cost grows with their operands (concatenation,
 * comparison, equality, map lookups, contains, size) pay for it, one step a 16 elements or characters. Whether the
 * budget is spent, after which the caller gives up.
 */
function charge(units: i64): bool {
  steps += <i32>min<i64>(units >> 4, MAX_STEPS);
  if (steps > MAX_STEPS) {
    limit('the evaluation took more steps than the limit');
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Values.

const T_NULL = 0;
const T_BOOL = 1;
const T_INT = 2;
const T_UINT = 3;
const T_DOUBLE = 4;
const T_STRING = 5;
const T_BYTES = 6;
const T_LIST = 7;
const T_MAP = 8;
const T_TYPE = 9;
const T_ERROR = 10;
const T_TIMESTAMP = 11;
const T_DURATION = 12;

const TYPE_NAMES: string[] = ['null_type', 'bool', 'int', 'uint', 'double', 'string', 'bytes', 'list', 'map', 'type'];

abstract class Val {
  constructor(public t: i32) {}
}
class NullVal extends Val {
  constructor() {
    super(T_NULL);
  }
}
class BoolVal extends Val {
  constructor(public b: bool) {
    super(T_BOOL);
  }
}
class IntVal extends Val {
  constructor(public i: i64) {
    super(T_INT);
  }
}
class UintVal extends Val {
  constructor(public u: u64) {
    super(T_UINT);
  }
}
class DoubleVal extends Val {
  constructor(public d: f64) {
    super(T_DOUBLE);
  }
}
class StrVal extends Val {
  constructor(public s: string) {
    super(T_STRING);
  }
}
class BytesVal extends Val {
  constructor(public b: Uint8Array) {
    super(T_BYTES);
  }
}
class ListVal extends Val {
  constructor(public items: Val[]) {
    super(T_LIST);
  }
}
class MapVal extends Val {
  constructor(public keys: Val[], public vals: Val[]) {
    super(T_MAP);
  }
}
class TypeVal extends Val {
  constructor(public name: string) {
    super(T_TYPE);
  }
}
/** Seconds since 1970 (UTC) and nanoseconds in [0, 1e9): year 1 to 9999. */
class TsVal extends Val {
  constructor(public sec: i64, public nanos: i32) {
    super(T_TIMESTAMP);
  }
}
/** Seconds and nanoseconds of one sign: int64 nanoseconds (about 292 years either way), as cel-go. */
class DurVal extends Val {
  constructor(public sec: i64, public nanos: i32) {
    super(T_DURATION);
  }
}
class ErrVal extends Val {
  constructor(public msg: string) {
    super(T_ERROR);
  }
}

const NULL = new NullVal();
const TRUE = new BoolVal(true);
const FALSE = new BoolVal(false);
@inline function boolOf(b: bool): BoolVal {
  return b ? TRUE : FALSE;
}

function typeName(v: Val): string {
  if (v.t == T_TYPE) return 'type';
  if (v.t == T_ERROR) return 'error';
  if (v.t == T_TIMESTAMP) return 'google.protobuf.Timestamp';
  if (v.t == T_DURATION) return 'google.protobuf.Duration';
  return TYPE_NAMES[v.t];
}

function noOverload(op: string, a: Val, b: Val | null = null): ErrVal {
  return new ErrVal(b === null ? `no such overload: ${op}(${typeName(a)})` : `no such overload: ${op}(${typeName(a)}, ${typeName(b)})`);
}

// ---------------------------------------------------------------------------------------------------------
// The tree.

const N_LITERAL = 0;
const N_IDENT = 1;
const N_SELECT = 2; // children[0].name
const N_PRESENCE = 3; // has(children[0].name)
const N_INDEX = 4;
const N_CALL = 5; // name(args), receiver in `target` when a method
const N_LIST = 6;
const N_MAP = 7; // children: k0, v0, k1, v1, ...
const N_AND = 8;
const N_OR = 9;
const N_COND = 10;
const N_NOT = 11;
const N_NEG = 12;
const N_BINARY = 13; // op in `name`
const N_COMPREHENSION = 14; // macro in `name`, variable in `var1`

class Node {
  kind: i32;
  name: string = '';
  var1: string = '';
  value: Val | null = null;
  target: Node | null = null;
  children: Node[] = [];
  constructor(kind: i32) {
    this.kind = kind;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The lexer: over the expression's UTF-8 bytes at `src`.

const TK_EOF = 0;
const TK_INT = 1;
const TK_UINT = 2;
const TK_DOUBLE = 3;
const TK_STRING = 4;
const TK_BYTES = 5;
const TK_IDENT = 6;
const TK_OP = 7;

let src: usize = 0;
let srcLen: u32 = 0;
let pos: u32 = 0;
let tokKind: i32 = TK_EOF;
let tokText: string = '';
let tokInt: u64 = 0;
let tokDouble: f64 = 0;
let tokBytes: Uint8Array = new Uint8Array(0);
let tokStart: u32 = 0;
let parseError: string | null = null;

function syntax(message: string): void {
  if (parseError === null) parseError = `${message} (at byte ${tokStart})`;
}

@inline function ch(at: u32): u32 {
  return at < srcLen ? <u32>load<u8>(src + at) : 0;
}
@inline function isIdentStart(c: u32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f;
}
@inline function isDigit(c: u32): bool {
  return c >= 0x30 && c <= 0x39;
}
@inline function hexVal(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x41 + 10);
  return -1;
}

/** The UTF-8 bytes of src[from, to) as a string (the expression was checked to be UTF-8). */
function text(from: u32, to: u32): string {
  return String.UTF8.decodeUnsafe(src + from, to - from);
}

function skipSpace(): void {
  while (pos < srcLen) {
    const c = ch(pos);
    if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d || c == 0x0c) pos++;
    else if (c == 0x2f && ch(pos + 1) == 0x2f) {
      while (pos < srcLen && ch(pos) != 0x0a) pos++;
    } else break;
  }
}

const TWO_CHAR_OPS = ['==', '!=', '<=', '>=', '&&', '||'];

function next(): void {
  skipSpace();
  tokStart = pos;
  if (pos >= srcLen) {
    tokKind = TK_EOF;
    tokText = '';
    return;
  }
  const c = ch(pos);
  // String and bytes literals, with their prefixes.
  let raw = false;
  let isBytes = false;
  let q = pos;
  for (let i = 0; i < 2; i++) {
    const p = ch(q);
    if ((p == 0x72 || p == 0x52) && !raw) raw = true;
    else if ((p == 0x62 || p == 0x42) && !isBytes) isBytes = true;
    else break;
    q++;
  }
  if ((ch(q) == 0x22 || ch(q) == 0x27) && (q == pos || raw || isBytes)) {
    pos = q;
    lexString(raw, isBytes);
    return;
  }
  if (isIdentStart(c)) {
    const from = pos;
    while (pos < srcLen && (isIdentStart(ch(pos)) || isDigit(ch(pos)))) pos++;
    tokKind = TK_IDENT;
    tokText = text(from, pos);
    return;
  }
  if (isDigit(c) || (c == 0x2e && isDigit(ch(pos + 1)))) {
    lexNumber();
    return;
  }
  const two = pos + 1 < srcLen ? text(pos, pos + 2) : '';
  for (let i = 0; i < TWO_CHAR_OPS.length; i++) {
    if (two == TWO_CHAR_OPS[i]) {
      tokKind = TK_OP;
      tokText = two;
      pos += 2;
      return;
    }
  }
  if ('+-*/%<>!?:.,[](){}'.indexOf(String.fromCharCode(c)) >= 0) {
    tokKind = TK_OP;
    tokText = String.fromCharCode(c);
    pos++;
    return;
  }
  syntax(`unexpected character '${c < 0x80 ? String.fromCharCode(c) : '\\x' + c.toString(16)}'`);
  tokKind = TK_EOF;
  pos = srcLen;
}

function lexNumber(): void {
  const from = pos;
  if (ch(pos) == 0x30 && (ch(pos + 1) == 0x78 || ch(pos + 1) == 0x58)) {
    pos += 2;
    let v: u64 = 0;
    let digits = 0;
    let overflow = false;
    while (hexVal(ch(pos)) >= 0) {
      if (v > 0x0fffffffffffffff) overflow = true;
      v = (v << 4) | <u64>hexVal(ch(pos));
      pos++;
      digits++;
    }
    if (digits == 0) syntax('a hex literal needs digits');
    finishInt(v, overflow);
    return;
  }
  let isFloat = false;
  while (isDigit(ch(pos))) pos++;
  if (ch(pos) == 0x2e && isDigit(ch(pos + 1))) {
    isFloat = true;
    pos++;
    while (isDigit(ch(pos))) pos++;
  }
  if (ch(pos) == 0x65 || ch(pos) == 0x45) {
    let p = pos + 1;
    if (ch(p) == 0x2b || ch(p) == 0x2d) p++;
    if (isDigit(ch(p))) {
      isFloat = true;
      pos = p;
      while (isDigit(ch(pos))) pos++;
    }
  }
  if (isFloat) {
    tokKind = TK_DOUBLE;
    tokDouble = parseFloat(text(from, pos));
    return;
  }
  let v: u64 = 0;
  let overflow = false;
  for (let i = from; i < pos; i++) {
    const d = <u64>(ch(i) - 0x30);
    if (v > (0xffffffffffffffff - d) / 10) overflow = true;
    v = v * 10 + d;
  }
  finishInt(v, overflow);
}

function finishInt(v: u64, overflow: bool): void {
  if (ch(pos) == 0x75 || ch(pos) == 0x55) {
    pos++;
    tokKind = TK_UINT;
  } else tokKind = TK_INT;
  if (overflow) syntax('integer literal out of range');
  tokInt = v;
}

function lexString(raw: bool, isBytes: bool): void {
  const quote = ch(pos);
  const triple = ch(pos + 1) == quote && ch(pos + 2) == quote;
  pos += triple ? 3 : 1;
  const out = new Array<u8>();
  while (true) {
    if (pos >= srcLen) {
      syntax('unterminated string');
      break;
    }
    const c = ch(pos);
    if (c == quote && (!triple || (ch(pos + 1) == quote && ch(pos + 2) == quote))) {
      pos += triple ? 3 : 1;
      break;
    }
    if (!triple && (c == 0x0a || c == 0x0d)) {
      syntax('a newline in a single-quoted string');
      break;
    }
    if (c == 0x5c && !raw) {
      if (!lexEscape(out, isBytes)) break;
      continue;
    }
    out.push(<u8>c);
    pos++;
  }
  const bytes = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) bytes[i] = out[i];
  if (isBytes) {
    tokKind = TK_BYTES;
    tokBytes = bytes;
  } else {
    tokKind = TK_STRING;
    if (!validUtf8(bytes)) syntax('a string literal that is not UTF-8 (an escape made invalid UTF-8)');
    tokText = String.UTF8.decode(bytes.buffer);
  }
}

function pushUtf8(out: Array<u8>, cp: u32): void {
  if (cp < 0x80) out.push(<u8>cp);
  else if (cp < 0x800) {
    out.push(<u8>(0xc0 | (cp >> 6)));
    out.push(<u8>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push(<u8>(0xe0 | (cp >> 12)));
    out.push(<u8>(0x80 | ((cp >> 6) & 0x3f)));
    out.push(<u8>(0x80 | (cp & 0x3f)));
  } else {
    out.push(<u8>(0xf0 | (cp >> 18)));
    out.push(<u8>(0x80 | ((cp >> 12) & 0x3f)));
    out.push(<u8>(0x80 | ((cp >> 6) & 0x3f)));
    out.push(<u8>(0x80 | (cp & 0x3f)));
  }
}

/** One escape at pos (a backslash), appended to out; false on a malformed one. */
function lexEscape(out: Array<u8>, isBytes: bool): bool {
  const e = ch(pos + 1);
  pos += 2;
  switch (e) {
    case 0x61: out.push(7); return true; // \a
    case 0x62: out.push(8); return true;
    case 0x66: out.push(12); return true;
    case 0x6e: out.push(10); return true;
    case 0x72: out.push(13); return true;
    case 0x74: out.push(9); return true;
    case 0x76: out.push(11); return true;
    case 0x5c: case 0x27: case 0x22: case 0x60: case 0x3f: out.push(<u8>e); return true;
  }
  if (e == 0x78 || e == 0x58 || e == 0x75 || e == 0x55) {
    const n: u32 = e == 0x78 || e == 0x58 ? 2 : e == 0x75 ? 4 : 8;
    let cp: u32 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const h = hexVal(ch(pos + i));
      if (h < 0) {
        syntax('a malformed hex escape');
        return false;
      }
      cp = (cp << 4) | <u32>h;
    }
    pos += n;
    if (n == 2) {
      if (isBytes) out.push(<u8>cp);
      else pushUtf8(out, cp);
      return true;
    }
    if (isBytes) {
      syntax('a \\u escape in bytes');
      return false;
    }
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      syntax('an escape that is no Unicode scalar value');
      return false;
    }
    pushUtf8(out, cp);
    return true;
  }
  if (e >= 0x30 && e <= 0x33) {
    const a = e - 0x30;
    const b = ch(pos) - 0x30;
    const c = ch(pos + 1) - 0x30;
    if (b > 7 || c > 7) {
      syntax('a malformed octal escape');
      return false;
    }
    pos += 2;
    const v = (a << 6) | (b << 3) | c;
    if (isBytes) out.push(<u8>v);
    else pushUtf8(out, v);
    return true;
  }
  syntax('an unknown escape');
  return false;
}

function validUtf8(b: Uint8Array): bool {
  let i = 0;
  while (i < b.length) {
    const c = <u32>b[i];
    let n = 0;
    let min: u32 = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return false;
    let cp: u32 = c & (0xff >> (n + 2));
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return false;
      const cc = <u32>b[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// The parser (cel-spec's grammar, with the macros expanded into comprehensions).

const RESERVED = ['as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while'];

let depth: i32 = 0;

@inline function isOp(t: string): bool {
  return tokKind == TK_OP && tokText == t;
}

function expect(t: string): void {
  if (!isOp(t)) syntax(`expected '${t}'`);
  else next();
}

function parseExpr(): Node {
  if (++depth > MAX_DEPTH) {
    syntax('the expression nests too deeply');
    depth--;
    return new Node(N_LITERAL);
  }
  const cond = parseOr();
  let result = cond;
  if (isOp('?')) {
    next();
    const yes = parseOr();
    expect(':');
    const no = parseExpr();
    result = new Node(N_COND);
    result.children = [cond, yes, no];
  }
  depth--;
  return result;
}

function parseOr(): Node {
  let left = parseAnd();
  while (isOp('||') && parseError === null) {
    next();
    const n = new Node(N_OR);
    n.children = [left, parseAnd()];
    left = n;
  }
  return left;
}

function parseAnd(): Node {
  let left = parseRelation();
  while (isOp('&&') && parseError === null) {
    next();
    const n = new Node(N_AND);
    n.children = [left, parseRelation()];
    left = n;
  }
  return left;
}

function parseRelation(): Node {
  let left = parseAddition();
  while (parseError === null && ((tokKind == TK_OP && (tokText == '<' || tokText == '<=' || tokText == '>' || tokText == '>=' || tokText == '==' || tokText == '!=')) || (tokKind == TK_IDENT && tokText == 'in'))) {
    const op = tokText;
    next();
    const n = new Node(N_BINARY);
    n.name = op;
    n.children = [left, parseAddition()];
    left = n;
  }
  return left;
}

function parseAddition(): Node {
  let left = parseMultiplication();
  while (parseError === null && (isOp('+') || isOp('-'))) {
    const op = tokText;
    next();
    const n = new Node(N_BINARY);
    n.name = op;
    n.children = [left, parseMultiplication()];
    left = n;
  }
  return left;
}

function parseMultiplication(): Node {
  let left = parseUnary();
  while (parseError === null && (isOp('*') || isOp('/') || isOp('%'))) {
    const op = tokText;
    next();
    const n = new Node(N_BINARY);
    n.name = op;
    n.children = [left, parseUnary()];
    left = n;
  }
  return left;
}

function parseUnary(): Node {
  if ((isOp('!') || isOp('-')) && ++depth > MAX_DEPTH) {
    syntax('the expression nests too deeply');
    return new Node(N_LITERAL);
  }
  const unary = isOp('!') || isOp('-');
  const n = parseUnaryInner();
  if (unary) depth--;
  return n;
}

function parseUnaryInner(): Node {
  if (isOp('!')) {
    next();
    const n = new Node(N_NOT);
    n.children = [parseUnary()];
    return n;
  }
  if (isOp('-')) {
    next();
    // A negative literal is one token's value: -9223372036854775808 is an int.
    if (tokKind == TK_INT) {
      const v = tokInt;
      next();
      const lit = new Node(N_LITERAL);
      if (v > 0x8000000000000000) {
        syntax('integer literal out of range');
        return lit;
      }
      lit.value = new IntVal(<i64>(0 - v));
      return parseMemberTail(lit);
    }
    if (tokKind == TK_DOUBLE) {
      const d = tokDouble;
      next();
      const lit = new Node(N_LITERAL);
      lit.value = new DoubleVal(-d);
      return parseMemberTail(lit);
    }
    const n = new Node(N_NEG);
    n.children = [parseUnary()];
    return n;
  }
  return parseMemberTail(parsePrimary());
}

function parseArgs(close: string): Node[] {
  const args = new Array<Node>();
  if (isOp(close)) {
    next();
    return args;
  }
  while (parseError === null) {
    args.push(parseExpr());
    if (isOp(',')) {
      next();
      if (isOp(close)) break; // a trailing comma (lists and maps allow it)
      continue;
    }
    break;
  }
  expect(close);
  return args;
}

const MACROS = ['all', 'exists', 'exists_one', 'map', 'filter'];

function parseMemberTail(start: Node): Node {
  let node = start;
  while (parseError === null) {
    if (isOp('.')) {
      next();
      if (tokKind != TK_IDENT) {
        syntax('expected a field name after "."');
        return node;
      }
      const name = tokText;
      next();
      if (isOp('(')) {
        next();
        const args = parseArgs(')');
        if (MACROS.includes(name)) {
          node = macro(node, name, args);
          continue;
        }
        const call = new Node(N_CALL);
        call.name = name;
        call.target = node;
        call.children = args;
        node = call;
      } else {
        const sel = new Node(N_SELECT);
        sel.name = name;
        sel.children = [node];
        node = sel;
      }
    } else if (isOp('[')) {
      next();
      const idx = new Node(N_INDEX);
      idx.children = [node, parseExpr()];
      expect(']');
      node = idx;
    } else break;
  }
  return node;
}

function macro(target: Node, name: string, args: Node[]): Node {
  const n = new Node(N_COMPREHENSION);
  n.name = name;
  const want = name == 'map' ? (args.length == 3 ? 3 : 2) : 2;
  if (args.length != want || args[0].kind != N_IDENT) {
    syntax(`${name}() takes a variable name and ${name == 'map' ? 'an expression (and a filter before it)' : 'a predicate'}`);
    return n;
  }
  n.var1 = args[0].name;
  n.target = target;
  n.children = args.slice(1);
  return n;
}

function parsePrimary(): Node {
  const n = new Node(N_LITERAL);
  if (tokKind == TK_INT) {
    if (tokInt > 0x7fffffffffffffff) syntax('integer literal out of range');
    n.value = new IntVal(<i64>tokInt);
    next();
    return n;
  }
  if (tokKind == TK_UINT) {
    n.value = new UintVal(tokInt);
    next();
    return n;
  }
  if (tokKind == TK_DOUBLE) {
    n.value = new DoubleVal(tokDouble);
    next();
    return n;
  }
  if (tokKind == TK_STRING) {
    n.value = new StrVal(tokText);
    next();
    return n;
  }
  if (tokKind == TK_BYTES) {
    n.value = new BytesVal(tokBytes);
    next();
    return n;
  }
  if (tokKind == TK_IDENT) {
    const name = tokText;
    next();
    if (name == 'true' || name == 'false') {
      n.value = boolOf(name == 'true');
      return n;
    }
    if (name == 'null') {
      n.value = NULL;
      return n;
    }
    if (name == 'in' || RESERVED.includes(name)) {
      syntax(`reserved word '${name}'`);
      return n;
    }
    if (isOp('(')) {
      next();
      const args = parseArgs(')');
      if (name == 'has') {
        if (args.length != 1 || args[0].kind != N_SELECT) {
          syntax('has() takes a field selection, e.g. has(a.b)');
          return n;
        }
        const p = new Node(N_PRESENCE);
        p.name = args[0].name;
        p.children = [args[0].children[0]];
        return p;
      }
      const call = new Node(N_CALL);
      call.name = name;
      call.children = args;
      return call;
    }
    const id = new Node(N_IDENT);
    id.name = name;
    return id;
  }
  if (isOp('(')) {
    next();
    const inner = parseExpr();
    expect(')');
    return inner;
  }
  if (isOp('[')) {
    next();
    const list = new Node(N_LIST);
    list.children = parseArgs(']');
    return list;
  }
  if (isOp('{')) {
    next();
    const map = new Node(N_MAP);
    if (isOp('}')) {
      next();
      return map;
    }
    while (parseError === null) {
      map.children.push(parseExpr());
      expect(':');
      map.children.push(parseExpr());
      if (isOp(',')) {
        next();
        if (isOp('}')) break;
        continue;
      }
      break;
    }
    expect('}');
    return map;
  }
  if (isOp('.')) {
    syntax('qualified names are not supported');
    return n;
  }
  syntax(tokKind == TK_EOF ? 'unexpected end of the expression' : `unexpected '${tokText}'`);
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// The activation: variables, given as a JSON object of typed values (docs/ABI.md, "CEL").

const varNames = new Array<string>();
const varValues = new Array<Val>();

function nodeString(n: u32): string {
  return String.UTF8.decodeUnsafe(word(n, 1), word(n, 2));
}

/** A plain JSON value (`{"json": ...}`): objects are maps with string keys, numbers doubles. */
function fromJson(n: u32): Val {
  const k = kindOf(n);
  if (k == K_NULL) return NULL;
  if (k == K_TRUE) return TRUE;
  if (k == K_FALSE) return FALSE;
  if (k == K_STRING) return new StrVal(nodeString(n));
  if (k == K_NUMBER) return new DoubleVal(parseFloat(nodeString(n)));
  if (k == K_ARRAY) {
    const items = new Array<Val>();
    let c = n + 1;
    for (let i: u32 = 0; i < word(n, 1); i++) {
      items.push(fromJson(c));
      c = skip(c);
    }
    return new ListVal(items);
  }
  const keys = new Array<Val>();
  const vals = new Array<Val>();
  let c = n + 1;
  for (let i: u32 = 0; i < word(n, 1); i++) {
    keys.push(new StrVal(nodeString(c)));
    vals.push(fromJson(c + 1));
    c = skip(c + 1);
  }
  return new MapVal(keys, vals);
}

function member(obj: u32, name: string): u32 {
  let c = obj + 1;
  for (let i: u32 = 0; i < word(obj, 1); i++) {
    if (nodeString(c) == name) return c + 1;
    c = skip(c + 1);
  }
  return 0;
}

/** A typed value: `{"int": "1"}`, `{"uint": "1"}`, `{"double": "1.5"}`, `{"string": ...}`, `{"bytes": base64}`,
 *  `{"bool": true}`, `{"null": null}`, `{"list": [...]}`, `{"map": [[k, v], ...]}`, `{"type": "int"}`, `{"json": any}`. */
function fromTyped(n: u32): Val {
  if (kindOf(n) != K_OBJECT || word(n, 1) != 1) return new ErrVal('a variable must be one typed value');
  const tag = nodeString(n + 1);
  const v = n + 2;
  const k = kindOf(v);
  if (tag == 'json') return fromJson(v);
  if (tag == 'null') return NULL;
  if (tag == 'bool' && (k == K_TRUE || k == K_FALSE)) return boolOf(k == K_TRUE);
  if (tag == 'string' && k == K_STRING) return new StrVal(nodeString(v));
  if (tag == 'type' && k == K_STRING) return new TypeVal(nodeString(v));
  if (tag == 'timestamp' && k == K_STRING) return parseTimestamp(nodeString(v));
  if (tag == 'duration' && k == K_STRING) return parseDuration(nodeString(v));
  if (k == K_STRING && (tag == 'int' || tag == 'uint' || tag == 'double')) {
    const s = nodeString(v);
    if (tag == 'double') return new DoubleVal(s == 'NaN' ? NaN : s == 'Infinity' ? Infinity : s == '-Infinity' ? -Infinity : parseFloat(s));
    const neg = s.startsWith('-');
    let u: u64 = 0;
    for (let i = neg ? 1 : 0; i < s.length; i++) u = u * 10 + <u64>(s.charCodeAt(i) - 0x30);
    return tag == 'int' ? new IntVal(neg ? <i64>(0 - u) : <i64>u) : new UintVal(u);
  }
  if (tag == 'bytes' && k == K_STRING) return new BytesVal(base64Decode(nodeString(v)));
  if (tag == 'list' && k == K_ARRAY) {
    const items = new Array<Val>();
    let c = v + 1;
    for (let i: u32 = 0; i < word(v, 1); i++) {
      items.push(fromTyped(c));
      c = skip(c);
    }
    return new ListVal(items);
  }
  if (tag == 'map' && k == K_ARRAY) {
    const keys = new Array<Val>();
    const vals = new Array<Val>();
    let c = v + 1;
    for (let i: u32 = 0; i < word(v, 1); i++) {
      if (kindOf(c) != K_ARRAY || word(c, 1) != 2) return new ErrVal('a map entry must be [key, value]');
      keys.push(fromTyped(c + 1));
      vals.push(fromTyped(skip(c + 1)));
      c = skip(c);
    }
    return new MapVal(keys, vals);
  }
  return new ErrVal(`a malformed typed value ("${tag}")`);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64Decode(s: string): Uint8Array {
  const out = new Array<u8>();
  let acc: u32 = 0;
  let bits: u32 = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64.indexOf(s.charAt(i));
    if (v < 0) continue;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push(<u8>(acc >> bits));
    }
  }
  const b = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) b[i] = out[i];
  return b;
}

function base64Encode(b: Uint8Array): string {
  // Into a byte buffer, decoded once (appending to a string was quadratic).
  const out = new Uint8Array(((b.length + 2) / 3) * 4);
  let o = 0;
  for (let i = 0; i < b.length; i += 3) {
    const n = (<u32>b[i] << 16) | ((i + 1 < b.length ? <u32>b[i + 1] : 0) << 8) | (i + 2 < b.length ? <u32>b[i + 2] : 0);
    out[o++] = <u8>B64.charCodeAt((n >> 18) & 63);
    out[o++] = <u8>B64.charCodeAt((n >> 12) & 63);
    out[o++] = i + 1 < b.length ? <u8>B64.charCodeAt((n >> 6) & 63) : 0x3d;
    out[o++] = i + 2 < b.length ? <u8>B64.charCodeAt(n & 63) : 0x3d;
  }
  return String.UTF8.decode(out.buffer);
}

/** A value shown in an error message: at most 64 characters of it (messages quote attacker data). */
function clip(s: string): string {
  return s.length <= 64 ? s : s.substring(0, 64) + `... (${s.length} characters)`;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation.

const scopeNames = new Array<string>();
const scopeValues = new Array<Val>();

function lookup(name: string): Val | null {
  for (let i = scopeNames.length - 1; i >= 0; i--) if (scopeNames[i] == name) return scopeValues[i];
  for (let i = 0; i < varNames.length; i++) if (varNames[i] == name) return varValues[i];
  return null;
}

function codePoints(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

function codePointsOf(s: string): i32[] {
  const out = new Array<i32>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out.push(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
        i++;
        continue;
      }
    }
    out.push(c);
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): i32 {
  const n = min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length == b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareStrings(a: string, b: string): i32 {
  // By code point (UTF-16 order differs above the BMP): compare the UTF-8 forms.
  charge(<i64>a.length + <i64>b.length);
  return compareBytes(Uint8Array.wrap(String.UTF8.encode(a)), Uint8Array.wrap(String.UTF8.encode(b)));
}

@inline function isNumber(v: Val): bool {
  return v.t == T_INT || v.t == T_UINT || v.t == T_DOUBLE;
}

/** -1, 0, 1, or 2 when unordered (NaN), across int, uint and double. */
function compareNumbers(a: Val, b: Val): i32 {
  if (a.t == T_DOUBLE || b.t == T_DOUBLE) {
    if (a.t == T_DOUBLE && b.t == T_DOUBLE) {
      const x = (<DoubleVal>a).d;
      const y = (<DoubleVal>b).d;
      return isNaN(x) || isNaN(y) ? 2 : x < y ? -1 : x > y ? 1 : 0;
    }
    // As cel-go compares: outside the integer type's range the double decides, inside it the integer is converted
    // to a double (lossily, as the spec's conformance tests expect).
    const d = a.t == T_DOUBLE ? (<DoubleVal>a).d : (<DoubleVal>b).d;
    const other = a.t == T_DOUBLE ? b : a;
    const sign: i32 = a.t == T_DOUBLE ? -1 : 1;
    if (isNaN(d)) return 2;
    let r: i32;
    if (other.t == T_UINT) {
      const x = <f64>(<UintVal>other).u;
      r = d < 0 ? 1 : d > 18446744073709551615.0 ? -1 : x < d ? -1 : x > d ? 1 : 0;
    } else {
      const x = <f64>(<IntVal>other).i;
      r = d < -9223372036854775808.0 ? 1 : d > 9223372036854775807.0 ? -1 : x < d ? -1 : x > d ? 1 : 0;
    }
    return r * sign;
  }
  if (a.t == T_INT && b.t == T_INT) {
    const x = (<IntVal>a).i;
    const y = (<IntVal>b).i;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.t == T_UINT && b.t == T_UINT) {
    const x = (<UintVal>a).u;
    const y = (<UintVal>b).u;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.t == T_INT) {
    const x = (<IntVal>a).i;
    const y = (<UintVal>b).u;
    return x < 0 ? -1 : <u64>x < y ? -1 : <u64>x > y ? 1 : 0;
  }
  const x = (<UintVal>a).u;
  const y = (<IntVal>b).i;
  return y < 0 ? 1 : x < <u64>y ? -1 : x > <u64>y ? 1 : 0;
}

/** CEL equality: a bool, or an error value; values of different types are not equal (numbers compare across types). */
function equals(a: Val, b: Val): Val {
  if (a.t == T_ERROR) return a;
  if (b.t == T_ERROR) return b;
  if (isNumber(a) && isNumber(b)) return boolOf(compareNumbers(a, b) == 0);
  if (a.t != b.t) return FALSE;
  switch (a.t) {
    case T_NULL: return TRUE;
    case T_BOOL: return boolOf((<BoolVal>a).b == (<BoolVal>b).b);
    case T_STRING: return boolOf((<StrVal>a).s == (<StrVal>b).s);
    case T_BYTES: return boolOf(compareBytes((<BytesVal>a).b, (<BytesVal>b).b) == 0);
    case T_TYPE: return boolOf((<TypeVal>a).name == (<TypeVal>b).name);
    case T_TIMESTAMP: return boolOf((<TsVal>a).sec == (<TsVal>b).sec && (<TsVal>a).nanos == (<TsVal>b).nanos);
    case T_DURATION: return boolOf((<DurVal>a).sec == (<DurVal>b).sec && (<DurVal>a).nanos == (<DurVal>b).nanos);
    case T_LIST: {
      const x = (<ListVal>a).items;
      const y = (<ListVal>b).items;
      if (x.length != y.length) return FALSE;
      let err: Val | null = null;
      for (let i = 0; i < x.length; i++) {
        // Each element compared is a step: lists sharing structure can be exponentially larger than their text.
        if (++steps > MAX_STEPS) return limit('the evaluation took more steps than the limit');
        const e = equals(x[i], y[i]);
        if (e.t == T_ERROR) err = e;
        else if (!(<BoolVal>e).b) return FALSE;
      }
      return err !== null ? err : TRUE;
    }
    case T_MAP: {
      const x = <MapVal>a;
      const y = <MapVal>b;
      if (x.keys.length != y.keys.length) return FALSE;
      for (let i = 0; i < x.keys.length; i++) {
        if (++steps > MAX_STEPS) return limit('the evaluation took more steps than the limit');
        const at = mapFind(y, x.keys[i]);
        if (at < 0) return FALSE;
        const e = equals(x.vals[i], y.vals[at]);
        if (e.t == T_ERROR) return e;
        if (!(<BoolVal>e).b) return FALSE;
      }
      return TRUE;
    }
  }
  return FALSE;
}

function mapFind(m: MapVal, key: Val): i32 {
  // A linear scan: its length is charged (a lookup per key of a large map would otherwise be quadratic, unbounded).
  if (charge(m.keys.length)) return -1;
  for (let i = 0; i < m.keys.length; i++) {
    const e = equals(m.keys[i], key);
    if (e.t == T_BOOL && (<BoolVal>e).b) return i;
  }
  return -1;
}

function validKey(k: Val): bool {
  return k.t == T_BOOL || k.t == T_INT || k.t == T_UINT || k.t == T_STRING;
}

function overflow(op: string): ErrVal {
  return new ErrVal(`return error for overflow (${op})`);
}

function arith(op: string, a: Val, b: Val): Val {
  if (a.t == T_ERROR) return a;
  if (b.t == T_ERROR) return b;
  if (a.t == T_INT && b.t == T_INT) {
    const x = (<IntVal>a).i;
    const y = (<IntVal>b).i;
    if (op == '+') {
      const r = x + y;
      return ((x ^ r) & (y ^ r)) < 0 ? overflow('+') : new IntVal(r);
    }
    if (op == '-') {
      const r = x - y;
      return ((x ^ y) & (x ^ r)) < 0 ? overflow('-') : new IntVal(r);
    }
    if (op == '*') {
      if ((x == -1 && y == i64.MIN_VALUE) || (y == -1 && x == i64.MIN_VALUE)) return overflow('*');
      const r = x * y;
      return x != 0 && r / x != y ? overflow('*') : new IntVal(r);
    }
    if (y == 0) return new ErrVal(op == '/' ? 'divide by zero' : 'modulus by zero');
    if (x == i64.MIN_VALUE && y == -1) return overflow(op);
    return new IntVal(op == '/' ? x / y : x % y);
  }
  if (a.t == T_UINT && b.t == T_UINT) {
    const x = (<UintVal>a).u;
    const y = (<UintVal>b).u;
    if (op == '+') return x + y < x ? overflow('+') : new UintVal(x + y);
    if (op == '-') return y > x ? overflow('-') : new UintVal(x - y);
    if (op == '*') {
      const r = x * y;
      return x != 0 && r / x != y ? overflow('*') : new UintVal(r);
    }
    if (y == 0) return new ErrVal(op == '/' ? 'divide by zero' : 'modulus by zero');
    return new UintVal(op == '/' ? x / y : x % y);
  }
  if (a.t == T_DOUBLE && b.t == T_DOUBLE) {
    const x = (<DoubleVal>a).d;
    const y = (<DoubleVal>b).d;
    if (op == '+') return new DoubleVal(x + y);
    if (op == '-') return new DoubleVal(x - y);
    if (op == '*') return new DoubleVal(x * y);
    if (op == '/') return new DoubleVal(x / y);
    return noOverload('_%_', a, b);
  }
  if (op == '+' && a.t == b.t) {
    if (a.t == T_STRING) {
      if (charge(<i64>(<StrVal>a).s.length + <i64>(<StrVal>b).s.length)) return new ErrVal(<string>limitHit);
      const s = (<StrVal>a).s + (<StrVal>b).s;
      return s.length > MAX_SIZE ? limit('a string longer than the limit') : new StrVal(s);
    }
    if (a.t == T_BYTES) {
      const x = (<BytesVal>a).b;
      const y = (<BytesVal>b).b;
      if (x.length + y.length > MAX_SIZE) return limit('bytes longer than the limit');
      if (charge(<i64>x.length + <i64>y.length)) return new ErrVal(<string>limitHit);
      const r = new Uint8Array(x.length + y.length);
      r.set(x);
      r.set(y, x.length);
      return new BytesVal(r);
    }
    if (a.t == T_LIST) {
      const x = (<ListVal>a).items;
      const y = (<ListVal>b).items;
      if (x.length + y.length > MAX_SIZE) return limit('a list longer than the limit');
      if (charge(<i64>x.length + <i64>y.length)) return new ErrVal(<string>limitHit);
      return new ListVal(x.concat(y));
    }
  }
  return noOverload(`_${op}_`, a, b);
}

function binary(op: string, a: Val, b: Val): Val {
  if (op == '==' || op == '!=') {
    const e = equals(a, b);
    if (e.t == T_ERROR || op == '==') return e;
    return boolOf(!(<BoolVal>e).b);
  }
  if (a.t == T_ERROR) return a;
  if (b.t == T_ERROR) return b;
  if (op == 'in') {
    if (b.t == T_LIST) {
      const items = (<ListVal>b).items;
      if (charge(items.length)) return new ErrVal(<string>limitHit);
      for (let i = 0; i < items.length; i++) {
        const e = equals(a, items[i]);
        if (e.t == T_BOOL && (<BoolVal>e).b) return TRUE;
      }
      return FALSE;
    }
    if (b.t == T_MAP) return boolOf(mapFind(<MapVal>b, a) >= 0);
    return noOverload('@in', a, b);
  }
  const timed = timeArith(op, a, b);
  if (timed !== null) return timed;
  if (op == '<' || op == '<=' || op == '>' || op == '>=') {
    let c: i32;
    if (isNumber(a) && isNumber(b)) c = compareNumbers(a, b);
    else if (a.t != b.t) return noOverload(`_${op}_`, a, b);
    else if (a.t == T_STRING) c = compareStrings((<StrVal>a).s, (<StrVal>b).s);
    else if (a.t == T_BYTES) c = compareBytes((<BytesVal>a).b, (<BytesVal>b).b);
    else if (a.t == T_BOOL) c = (<BoolVal>a).b == (<BoolVal>b).b ? 0 : (<BoolVal>a).b ? 1 : -1;
    else return noOverload(`_${op}_`, a, b);
    if (c == 2) return FALSE;
    if (op == '<') return boolOf(c < 0);
    if (op == '<=') return boolOf(c <= 0);
    if (op == '>') return boolOf(c > 0);
    return boolOf(c >= 0);
  }
  return arith(op, a, b);
}

function index(a: Val, i: Val): Val {
  if (a.t == T_ERROR) return a;
  if (i.t == T_ERROR) return i;
  if (a.t == T_LIST) {
    const items = (<ListVal>a).items;
    let k: i64;
    if (i.t == T_INT) k = (<IntVal>i).i;
    else if (i.t == T_UINT) k = (<UintVal>i).u > <u64>i64.MAX_VALUE ? -1 : <i64>(<UintVal>i).u;
    else if (i.t == T_DOUBLE && (<DoubleVal>i).d == Math.floor((<DoubleVal>i).d) && Math.abs((<DoubleVal>i).d) < 9.0e15) k = <i64>(<DoubleVal>i).d;
    else return noOverload('_[_]', a, i);
    if (k < 0 || k >= items.length) return new ErrVal(`index out of range: ${k}`);
    return items[<i32>k];
  }
  if (a.t == T_MAP) {
    if (!validKey(i) && i.t != T_DOUBLE) return noOverload('_[_]', a, i);
    const at = mapFind(<MapVal>a, i);
    if (at < 0) return new ErrVal(`no such key: ${clip(show(i))}`);
    return (<MapVal>a).vals[at];
  }
  return noOverload('_[_]', a, i);
}

function show(v: Val): string {
  if (v.t == T_STRING) return (<StrVal>v).s;
  if (v.t == T_INT) return (<IntVal>v).i.toString();
  if (v.t == T_UINT) return (<UintVal>v).u.toString();
  if (v.t == T_BOOL) return (<BoolVal>v).b ? 'true' : 'false';
  if (v.t == T_DOUBLE) return formatDouble((<DoubleVal>v).d);
  return typeName(v);
}

function select(a: Val, field: string): Val {
  if (a.t == T_ERROR) return a;
  if (a.t == T_MAP) {
    const at = mapFind(<MapVal>a, new StrVal(field));
    if (at < 0) return new ErrVal(`no such key: ${field}`);
    return (<MapVal>a).vals[at];
  }
  return new ErrVal(`type '${typeName(a)}' does not support field selection`);
}

function formatDouble(d: f64): string {
  if (isNaN(d)) return 'NaN';
  if (d == Infinity) return '+Inf';
  if (d == -Infinity) return '-Inf';
  return d.toString();
}

function toInt(v: Val): Val {
  if (v.t == T_INT) return v;
  if (v.t == T_TIMESTAMP) return new IntVal((<TsVal>v).sec);
  if (v.t == T_UINT) return (<UintVal>v).u > <u64>i64.MAX_VALUE ? new ErrVal('range error converting uint to int') : new IntVal(<i64>(<UintVal>v).u);
  if (v.t == T_DOUBLE) {
    const d = (<DoubleVal>v).d;
    if (isNaN(d) || d >= 9223372036854775807.0 || d <= -9223372036854775808.0) return new ErrVal('range error converting double to int');
    return new IntVal(<i64>d);
  }
  if (v.t == T_STRING) {
    const s = (<StrVal>v).s;
    const neg = s.startsWith('-');
    const body = neg || s.startsWith('+') ? s.substring(1) : s;
    if (body.length == 0 || body.length > 20) return new ErrVal(`cannot convert '${clip(s)}' to int`);
    let u: u64 = 0;
    for (let i = 0; i < body.length; i++) {
      const c = body.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return new ErrVal(`cannot convert '${clip(s)}' to int`);
      const d = <u64>(c - 0x30);
      if (u > (0xffffffffffffffff - d) / 10) return new ErrVal('range error converting string to int');
      u = u * 10 + d;
    }
    if (neg ? u > 0x8000000000000000 : u > 0x7fffffffffffffff) return new ErrVal('range error converting string to int');
    return new IntVal(neg ? <i64>(0 - u) : <i64>u);
  }
  return noOverload('int', v);
}

function toUint(v: Val): Val {
  if (v.t == T_UINT) return v;
  if (v.t == T_INT) return (<IntVal>v).i < 0 ? new ErrVal('range error converting int to uint') : new UintVal(<u64>(<IntVal>v).i);
  if (v.t == T_DOUBLE) {
    const d = (<DoubleVal>v).d;
    if (isNaN(d) || d < 0 || d >= 18446744073709551615.0) return new ErrVal('range error converting double to uint');
    return new UintVal(<u64>d);
  }
  if (v.t == T_STRING) {
    const i = toInt(new StrVal((<StrVal>v).s.startsWith('-') ? '?' : (<StrVal>v).s));
    if (i.t == T_INT) return new UintVal(<u64>(<IntVal>i).i);
    // Beyond int64: parse as unsigned.
    const s = (<StrVal>v).s;
    let u: u64 = 0;
    if (s.length == 0 || s.length > 20) return new ErrVal(`cannot convert '${clip(s)}' to uint`);
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c < 0x30 || c > 0x39) return new ErrVal(`cannot convert '${clip(s)}' to uint`);
      const d = <u64>(c - 0x30);
      if (u > (0xffffffffffffffff - d) / 10) return new ErrVal('range error converting string to uint');
      u = u * 10 + d;
    }
    return new UintVal(u);
  }
  return noOverload('uint', v);
}

function toDouble(v: Val): Val {
  if (v.t == T_DOUBLE) return v;
  if (v.t == T_INT) return new DoubleVal(<f64>(<IntVal>v).i);
  if (v.t == T_UINT) return new DoubleVal(<f64>(<UintVal>v).u);
  if (v.t == T_STRING) {
    const s = (<StrVal>v).s;
    if (s == 'NaN') return new DoubleVal(NaN);
    if (s == 'Infinity' || s == '+Infinity' || s == 'inf' || s == '+inf') return new DoubleVal(Infinity);
    if (s == '-Infinity' || s == '-inf') return new DoubleVal(-Infinity);
    const d = parseFloat(s);
    if (isNaN(d) || !validFloatText(s)) return new ErrVal(`cannot convert '${clip(s)}' to double`);
    return new DoubleVal(d);
  }
  return noOverload('double', v);
}

function validFloatText(s: string): bool {
  let i = 0;
  if (i < s.length && (s.charCodeAt(i) == 0x2b || s.charCodeAt(i) == 0x2d)) i++;
  let digits = 0;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) (i++, digits++);
  if (i < s.length && s.charCodeAt(i) == 0x2e) {
    i++;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) (i++, digits++);
  }
  if (digits == 0) return false;
  if (i < s.length && (s.charCodeAt(i) == 0x65 || s.charCodeAt(i) == 0x45)) {
    i++;
    if (i < s.length && (s.charCodeAt(i) == 0x2b || s.charCodeAt(i) == 0x2d)) i++;
    let e = 0;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) (i++, e++);
    if (e == 0) return false;
  }
  return i == s.length;
}

function toStr(v: Val): Val {
  if (v.t == T_STRING) return v;
  if (v.t == T_INT || v.t == T_UINT || v.t == T_BOOL) return new StrVal(show(v));
  if (v.t == T_DOUBLE) return new StrVal(formatDouble((<DoubleVal>v).d));
  if (v.t == T_TIMESTAMP) return new StrVal(formatTimestamp(<TsVal>v));
  if (v.t == T_DURATION) return new StrVal(formatDuration(<DurVal>v));
  if (v.t == T_BYTES) {
    const b = (<BytesVal>v).b;
    if (!validUtf8(b)) return new ErrVal('invalid UTF-8 in bytes, cannot convert to string');
    return new StrVal(String.UTF8.decode(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
  }
  if (v.t == T_TYPE) return noOverload('string', v);
  return noOverload('string', v);
}


// ---------------------------------------------------------------------------------------------------------
// Timestamps and durations (google.protobuf.Timestamp and Duration, as CEL has them).

const MIN_TS: i64 = -62135596800; // 0001-01-01T00:00:00Z
const MAX_TS: i64 = 253402300799; // 9999-12-31T23:59:59Z
// Durations are Go's (cel-go's, which the conformance tests follow): int64 nanoseconds, about 292 years either way.
const MAX_DUR: i64 = 9223372036;

function daysFromCivil(y0: i64, m: i64, d: i64): i64 {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month 1-12, day 1-31] of a day number. */
function civilFromDays(z0: i64): i64[] {
  const z = z0 + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function floorDiv(a: i64, b: i64): i64 {
  const q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

function makeTs(sec: i64, nanos: i64): Val {
  const s = sec + floorDiv(nanos, 1_000_000_000);
  const n = nanos - floorDiv(nanos, 1_000_000_000) * 1_000_000_000;
  if (s < MIN_TS || s > MAX_TS) return new ErrVal('timestamp out of range');
  return new TsVal(s, <i32>n);
}

function makeDur(sec: i64, nanos: i64): Val {
  let s = sec + nanos / 1_000_000_000;
  let n = nanos % 1_000_000_000;
  if (s > 0 && n < 0) {
    s -= 1;
    n += 1_000_000_000;
  } else if (s < 0 && n > 0) {
    s += 1;
    n -= 1_000_000_000;
  }
  if (s > MAX_DUR || s < -MAX_DUR || (s == MAX_DUR && n > 854775807) || (s == -MAX_DUR && n < -854775808)) return new ErrVal('duration out of range');
  return new DurVal(s, <i32>n);
}

function digitsAt(s: string, at: i32, n: i32): i32 {
  if (at + n > s.length) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(at + i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM). */
function parseTimestamp(s: string): Val {
  const bad = new ErrVal(`timestamp('${clip(s)}'): not an RFC 3339 time`);
  const y = digitsAt(s, 0, 4);
  if (y < 0 || s.length < 20 || s.charCodeAt(4) != 0x2d || s.charCodeAt(7) != 0x2d || (s.charCodeAt(10) != 0x54 && s.charCodeAt(10) != 0x74) || s.charCodeAt(13) != 0x3a || s.charCodeAt(16) != 0x3a) return bad;
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const se = digitsAt(s, 17, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return bad;
  const dim: i32[] = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (d > dim[mo - 1]) return bad;
  let at = 19;
  let nanos: i64 = 0;
  if (at < s.length && s.charCodeAt(at) == 0x2e) {
    at++;
    let digits = 0;
    while (at < s.length && s.charCodeAt(at) >= 0x30 && s.charCodeAt(at) <= 0x39) {
      if (digits < 9) nanos = nanos * 10 + (s.charCodeAt(at) - 0x30);
      digits++;
      at++;
    }
    if (digits == 0 || digits > 9) return bad;
    for (let k = digits; k < 9; k++) nanos *= 10;
  }
  let offset: i64 = 0;
  if (at < s.length && (s.charCodeAt(at) == 0x5a || s.charCodeAt(at) == 0x7a)) at++;
  else if (at + 6 == s.length && (s.charCodeAt(at) == 0x2b || s.charCodeAt(at) == 0x2d) && s.charCodeAt(at + 3) == 0x3a) {
    const oh = digitsAt(s, at + 1, 2);
    const om = digitsAt(s, at + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return bad;
    offset = (s.charCodeAt(at) == 0x2d ? -1 : 1) * (<i64>oh * 3600 + <i64>om * 60);
    at += 6;
  } else return bad;
  if (at != s.length || y == 0) return y == 0 ? new ErrVal('timestamp out of range') : bad;
  const sec = daysFromCivil(y, mo, d) * 86400 + <i64>h * 3600 + <i64>mi * 60 + <i64>se - offset;
  return makeTs(sec, nanos);
}

/** Go's time.ParseDuration: [-+](number unit)+, units h m s ms us µs ns, fractions allowed. */
function parseDuration(s: string): Val {
  const bad = new ErrVal(`duration('${clip(s)}'): not a duration`);
  let at = 0;
  let neg = false;
  if (at < s.length && (s.charCodeAt(at) == 0x2d || s.charCodeAt(at) == 0x2b)) neg = s.charCodeAt(at++) == 0x2d;
  if (s.substring(at) == '0') return new DurVal(0, 0);
  if (at >= s.length) return bad;
  let sec: i64 = 0;
  let nanos: i64 = 0;
  while (at < s.length) {
    let whole: i64 = 0;
    let digits = 0;
    while (at < s.length && s.charCodeAt(at) >= 0x30 && s.charCodeAt(at) <= 0x39) {
      if (whole > 100_000_000_000_000) return new ErrVal('duration out of range');
      whole = whole * 10 + (s.charCodeAt(at++) - 0x30);
      digits++;
    }
    let frac: f64 = 0;
    let scale: f64 = 1;
    if (at < s.length && s.charCodeAt(at) == 0x2e) {
      at++;
      while (at < s.length && s.charCodeAt(at) >= 0x30 && s.charCodeAt(at) <= 0x39) {
        scale /= 10;
        frac += scale * <f64>(s.charCodeAt(at++) - 0x30);
        digits++;
      }
    }
    if (digits == 0) return bad;
    const from = at;
    while (at < s.length && (s.charCodeAt(at) < 0x30 || s.charCodeAt(at) > 0x39) && s.charCodeAt(at) != 0x2e) at++;
    const unit = s.substring(from, at);
    let unitNanos: i64;
    if (unit == 'h') unitNanos = 3_600_000_000_000;
    else if (unit == 'm') unitNanos = 60_000_000_000;
    else if (unit == 's') unitNanos = 1_000_000_000;
    else if (unit == 'ms') unitNanos = 1_000_000;
    else if (unit == 'us' || unit == '\u00b5s' || unit == '\u03bcs') unitNanos = 1_000;
    else if (unit == 'ns') unitNanos = 1;
    else return bad;
    // Whole units in seconds and nanoseconds (no overflow below 1e14 units), the fraction rounded to a nanosecond.
    // (whole * unitNanos would overflow for milliseconds: 1e15 ms is 1e21 ns.)
    if (unitNanos >= 1_000_000_000) sec += whole * (unitNanos / 1_000_000_000);
    else {
      const perSecond = 1_000_000_000 / unitNanos;
      sec += whole / perSecond;
      nanos += (whole % perSecond) * unitNanos;
    }
    const f = frac * <f64>unitNanos;
    sec += <i64>(f / 1e9);
    nanos += <i64>Math.round(f - <f64>(<i64>(f / 1e9)) * 1e9);
    if (sec > MAX_DUR * 2) return new ErrVal('duration out of range');
  }
  return neg ? makeDur(-sec, -nanos) : makeDur(sec, nanos);
}

function formatTimestamp(t: TsVal): string {
  const days = floorDiv(t.sec, 86400);
  const rest = t.sec - days * 86400;
  const c = civilFromDays(days);
  const two = (v: i64): string => (v < 10 ? '0' : '') + v.toString();
  let out = c[0].toString().padStart(4, '0') + '-' + two(c[1]) + '-' + two(c[2]) + 'T' + two(rest / 3600) + ':' + two((rest / 60) % 60) + ':' + two(rest % 60);
  if (t.nanos != 0) {
    let f = t.nanos.toString().padStart(9, '0');
    while (f.endsWith('0')) f = f.substring(0, f.length - 1);
    out += '.' + f;
  }
  return out + 'Z';
}

function formatDuration(d: DurVal): string {
  const neg = d.sec < 0 || d.nanos < 0;
  const sec = d.sec < 0 ? -d.sec : d.sec;
  const nanos = d.nanos < 0 ? -d.nanos : d.nanos;
  let out = (neg ? '-' : '') + sec.toString();
  if (nanos != 0) {
    let f = nanos.toString().padStart(9, '0');
    while (f.endsWith('0')) f = f.substring(0, f.length - 1);
    out += '.' + f;
  }
  return out + 's';
}

/** A time zone: UTC, or a fixed offset ±HH:MM (IANA names need a time zone database the engine does not carry). */
function zoneOffset(z: Val): i64 {
  if (z.t != T_STRING) return i64.MIN_VALUE;
  const s = (<StrVal>z).s;
  if (s == 'UTC' || s == 'Z') return 0;
  let at = 0;
  let sign: i64 = 1;
  if (s.length > 0 && (s.charCodeAt(0) == 0x2b || s.charCodeAt(0) == 0x2d)) {
    sign = s.charCodeAt(0) == 0x2d ? -1 : 1;
    at = 1;
  }
  if (s.length - at != 5 || s.charCodeAt(at + 2) != 0x3a) return i64.MIN_VALUE;
  const h = digitsAt(s, at, 2);
  const m = digitsAt(s, at + 3, 2);
  if (h < 0 || m < 0 || h > 23 || m > 59) return i64.MIN_VALUE;
  return sign * (<i64>h * 3600 + <i64>m * 60);
}

function timeAccessor(name: string, t: Val, zone: Val | null): Val {
  if (t.t == T_DURATION) {
    const d = <DurVal>t;
    if (zone !== null) return noOverload(name, t, zone);
    if (name == 'getHours') return new IntVal(d.sec / 3600);
    if (name == 'getMinutes') return new IntVal(d.sec / 60);
    if (name == 'getSeconds') return new IntVal(d.sec);
    if (name == 'getMilliseconds') return new IntVal(d.sec * 1000 + <i64>(d.nanos / 1_000_000));
    return noOverload(name, t);
  }
  if (t.t != T_TIMESTAMP) return zone === null ? noOverload(name, t) : noOverload(name, t, zone);
  const ts = <TsVal>t;
  let offset: i64 = 0;
  if (zone !== null) {
    if (zone.t == T_ERROR) return zone;
    offset = zoneOffset(zone);
    if (offset == i64.MIN_VALUE) return new ErrVal(`unsupported time zone ${show(zone)} (UTC and fixed offsets like +05:30 are supported)`);
  }
  const local = ts.sec + offset;
  const days = floorDiv(local, 86400);
  const rest = local - days * 86400;
  const c = civilFromDays(days);
  if (name == 'getFullYear') return new IntVal(c[0]);
  if (name == 'getMonth') return new IntVal(c[1] - 1);
  if (name == 'getDate') return new IntVal(c[2]);
  if (name == 'getDayOfMonth') return new IntVal(c[2] - 1);
  if (name == 'getDayOfWeek') return new IntVal(((days % 7) + 11) % 7);
  if (name == 'getDayOfYear') return new IntVal(days - daysFromCivil(c[0], 1, 1));
  if (name == 'getHours') return new IntVal(rest / 3600);
  if (name == 'getMinutes') return new IntVal((rest / 60) % 60);
  if (name == 'getSeconds') return new IntVal(rest % 60);
  if (name == 'getMilliseconds') return new IntVal(<i64>(ts.nanos / 1_000_000));
  return noOverload(name, t);
}

const TIME_ACCESSORS = ['getFullYear', 'getMonth', 'getDate', 'getDayOfMonth', 'getDayOfWeek', 'getDayOfYear', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds'];

/** Arithmetic and comparison with timestamps and durations: a value, or null when neither operand is one. */
function timeArith(op: string, a: Val, b: Val): Val | null {
  const ta = a.t == T_TIMESTAMP || a.t == T_DURATION;
  const tb = b.t == T_TIMESTAMP || b.t == T_DURATION;
  if (!ta && !tb) return null;
  if (op == '+') {
    if (a.t == T_TIMESTAMP && b.t == T_DURATION) return makeTs((<TsVal>a).sec + (<DurVal>b).sec, <i64>(<TsVal>a).nanos + <i64>(<DurVal>b).nanos);
    if (a.t == T_DURATION && b.t == T_TIMESTAMP) return makeTs((<TsVal>b).sec + (<DurVal>a).sec, <i64>(<TsVal>b).nanos + <i64>(<DurVal>a).nanos);
    if (a.t == T_DURATION && b.t == T_DURATION) return makeDur((<DurVal>a).sec + (<DurVal>b).sec, <i64>(<DurVal>a).nanos + <i64>(<DurVal>b).nanos);
  }
  if (op == '-') {
    if (a.t == T_TIMESTAMP && b.t == T_DURATION) return makeTs((<TsVal>a).sec - (<DurVal>b).sec, <i64>(<TsVal>a).nanos - <i64>(<DurVal>b).nanos);
    if (a.t == T_TIMESTAMP && b.t == T_TIMESTAMP) return makeDur((<TsVal>a).sec - (<TsVal>b).sec, <i64>(<TsVal>a).nanos - <i64>(<TsVal>b).nanos);
    if (a.t == T_DURATION && b.t == T_DURATION) return makeDur((<DurVal>a).sec - (<DurVal>b).sec, <i64>(<DurVal>a).nanos - <i64>(<DurVal>b).nanos);
  }
  if ((op == '<' || op == '<=' || op == '>' || op == '>=') && a.t == b.t) {
    const as = a.t == T_TIMESTAMP ? (<TsVal>a).sec : (<DurVal>a).sec;
    const bs = b.t == T_TIMESTAMP ? (<TsVal>b).sec : (<DurVal>b).sec;
    const an = a.t == T_TIMESTAMP ? (<TsVal>a).nanos : (<DurVal>a).nanos;
    const bn = b.t == T_TIMESTAMP ? (<TsVal>b).nanos : (<DurVal>b).nanos;
    const c = as < bs ? -1 : as > bs ? 1 : an < bn ? -1 : an > bn ? 1 : 0;
    return boolOf(op == '<' ? c < 0 : op == '<=' ? c <= 0 : op == '>' ? c > 0 : c >= 0);
  }
  return noOverload(`_${op}_`, a, b);
}

function call(n: Node): Val {
  const name = n.name;
  const argc = n.children.length;
  if (n.target === null) {
    // Global functions.
    if (argc == 1) {
      const a = evaluate(n.children[0]);
      if (a.t == T_ERROR) return a;
      if (name == 'size') return size(a);
      if (name == 'int') return toInt(a);
      if (name == 'uint') return toUint(a);
      if (name == 'double') return toDouble(a);
      if (name == 'string') return toStr(a);
      if (name == 'bytes') {
        if (a.t == T_BYTES) return a;
        if (a.t == T_STRING) return new BytesVal(Uint8Array.wrap(String.UTF8.encode((<StrVal>a).s)));
        return noOverload('bytes', a);
      }
      if (name == 'bool') {
        if (a.t == T_BOOL) return a;
        if (a.t == T_STRING) {
          const s = (<StrVal>a).s;
          if (s == 'true' || s == 'True' || s == 'TRUE' || s == 't' || s == '1') return TRUE;
          if (s == 'false' || s == 'False' || s == 'FALSE' || s == 'f' || s == '0') return FALSE;
          return new ErrVal(`cannot convert '${clip(s)}' to bool`);
        }
        return noOverload('bool', a);
      }
      if (name == 'type') return new TypeVal(typeName(a));
      if (name == 'timestamp') {
        if (a.t == T_TIMESTAMP) return a;
        if (a.t == T_STRING) return parseTimestamp((<StrVal>a).s);
        if (a.t == T_INT) return makeTs((<IntVal>a).i, 0);
        return noOverload('timestamp', a);
      }
      if (name == 'duration') {
        if (a.t == T_DURATION) return a;
        if (a.t == T_STRING) return parseDuration((<StrVal>a).s);
        return noOverload('duration', a);
      }
      if (name == 'dyn') return a;
    }
    if (argc == 2 && (name == 'contains' || name == 'startsWith' || name == 'endsWith' || name == 'matches')) {
      return stringFunction(name, evaluate(n.children[0]), evaluate(n.children[1]));
    }
    return new ErrVal(`found no matching overload for '${name}' applied to ${argc} argument${argc == 1 ? '' : 's'}`);
  }
  const target = evaluate(<Node>n.target);
  if (target.t == T_ERROR) return target;
  if (argc == 0 && name == 'size') return size(target);
  if (TIME_ACCESSORS.includes(name) && argc <= 1) return timeAccessor(name, target, argc == 1 ? evaluate(n.children[0]) : null);
  if (argc == 1 && (name == 'contains' || name == 'startsWith' || name == 'endsWith' || name == 'matches')) {
    return stringFunction(name, target, evaluate(n.children[0]));
  }
  return new ErrVal(`found no matching overload for '${name}' on ${typeName(target)}`);
}

function size(a: Val): Val {
  if (a.t == T_STRING) return new IntVal(codePoints((<StrVal>a).s));
  if (a.t == T_BYTES) return new IntVal((<BytesVal>a).b.length);
  if (a.t == T_LIST) return new IntVal((<ListVal>a).items.length);
  if (a.t == T_MAP) return new IntVal((<MapVal>a).keys.length);
  return noOverload('size', a);
}

function stringFunction(name: string, a: Val, b: Val): Val {
  if (a.t == T_ERROR) return a;
  if (b.t == T_ERROR) return b;
  if (a.t != T_STRING || b.t != T_STRING) return noOverload(name, a, b);
  const s = (<StrVal>a).s;
  const t = (<StrVal>b).s;
  if (name == 'contains') {
    // A naive search: n x m in the worst case, charged so.
    if (charge(<i64>s.length * <i64>max(t.length, 1))) return new ErrVal(<string>limitHit);
    return boolOf(s.includes(t));
  }
  if (name == 'startsWith') return boolOf(s.startsWith(t));
  if (name == 'endsWith') return boolOf(s.endsWith(t));
  // The pattern's length is bounded (its compilation is not linear in it).
  if (t.length > MAX_PATTERN) return new ErrVal(`invalid regular expression: longer than ${MAX_PATTERN} characters`);
  // Its work bound (text x program) is charged, and must fit what is left of the step budget.
  const r = regexMatches(codePointsOf(t), codePointsOf(s), (MAX_STEPS - steps) << 4);
  if (r != -1 && charge(regexWork)) return new ErrVal(<string>limitHit);
  if (r == -1) return new ErrVal(`invalid regular expression: ${regexError}`);
  if (r == -2) return limit(regexError);
  return boolOf(r == 1);
}

function comprehension(n: Node): Val {
  const range = evaluate(<Node>n.target);
  if (range.t == T_ERROR) return range;
  let items: Val[];
  if (range.t == T_LIST) items = (<ListVal>range).items;
  else if (range.t == T_MAP) items = (<MapVal>range).keys;
  else return noOverload(n.name, range);
  const macroName = n.name;
  scopeNames.push(n.var1);
  scopeValues.push(NULL);
  const at = scopeValues.length - 1;
  let result: Val = NULL;
  if (macroName == 'all' || macroName == 'exists') {
    // && / || over the items, errors absorbed by a deciding value.
    const all = macroName == 'all';
    let err: Val | null = null;
    let decided = false;
    for (let i = 0; i < items.length && !decided; i++) {
      scopeValues[at] = items[i];
      const p = evaluate(n.children[0]);
      if (limitHit !== null) break;
      if (p.t == T_BOOL) {
        if ((<BoolVal>p).b != all) decided = true;
      } else if (err === null) err = p.t == T_ERROR ? p : noOverload(macroName, p);
    }
    result = decided ? boolOf(!all) : err !== null ? err : boolOf(all);
  } else if (macroName == 'exists_one') {
    let count = 0;
    let err: Val | null = null;
    for (let i = 0; i < items.length; i++) {
      scopeValues[at] = items[i];
      const p = evaluate(n.children[0]);
      if (p.t == T_BOOL) {
        if ((<BoolVal>p).b) count++;
      } else {
        err = p.t == T_ERROR ? p : noOverload(macroName, p);
        break;
      }
    }
    result = err !== null ? err : boolOf(count == 1);
  } else {
    // map (with an optional filter) and filter.
    const out = new Array<Val>();
    const filtered = macroName == 'filter' || n.children.length == 2;
    for (let i = 0; i < items.length; i++) {
      scopeValues[at] = items[i];
      if (filtered) {
        const p = evaluate(n.children[0]);
        if (p.t == T_ERROR) {
          result = p;
          break;
        }
        if (p.t != T_BOOL) {
          result = noOverload(macroName, p);
          break;
        }
        if (!(<BoolVal>p).b) continue;
      }
      const v = macroName == 'filter' ? items[i] : evaluate(n.children[n.children.length - 1]);
      if (v.t == T_ERROR) {
        result = v;
        break;
      }
      out.push(v);
    }
    if (result.t != T_ERROR) result = new ListVal(out);
  }
  scopeNames.pop();
  scopeValues.pop();
  return result;
}

/** Nesting of evaluation (a long chain like 1 + 1 + ... is a deep tree): bounded, so the native stack is. */
const MAX_EVAL_DEPTH: i32 = 250;
let evalDepth: i32 = 0;

/** `google.protobuf.<name>` when `n` spells it, else '' (checked in constant time: a chain may be long). */
function qualifiedName(n: Node): string {
  if (n.kind != N_SELECT) return '';
  const p = n.children[0];
  if (p.kind != N_SELECT || p.name != 'protobuf') return '';
  const g = p.children[0];
  return g.kind == N_IDENT && g.name == 'google' ? 'google.protobuf.' + n.name : '';
}

function evaluate(n: Node): Val {
  if (++steps > MAX_STEPS) return limit('the evaluation took more steps than the limit');
  if (limitHit !== null) return new ErrVal(<string>limitHit);
  if (++evalDepth > MAX_EVAL_DEPTH) {
    evalDepth--;
    return limit(`the expression nests more than ${MAX_EVAL_DEPTH} operations deep`);
  }
  const v = evaluateNode(n);
  evalDepth--;
  return v;
}

function evaluateNode(n: Node): Val {
  switch (n.kind) {
    case N_LITERAL: return <Val>n.value;
    case N_IDENT: {
      const v = lookup(n.name);
      if (v !== null) return v;
      if (TYPE_NAMES.includes(n.name)) return new TypeVal(n.name);
      return new ErrVal(`undeclared reference to '${n.name}'`);
    }
    case N_SELECT: {
      // google.protobuf.Timestamp and .Duration name types when `google` is no variable.
      const qualified = qualifiedName(n);
      if (qualified == 'google.protobuf.Timestamp' || qualified == 'google.protobuf.Duration') {
        if (lookup('google') === null) return new TypeVal(qualified);
      }
      return select(evaluate(n.children[0]), n.name);
    }
    case N_PRESENCE: {
      const a = evaluate(n.children[0]);
      if (a.t == T_ERROR) return a;
      if (a.t != T_MAP) return new ErrVal(`has() on a ${typeName(a)}`);
      return boolOf(mapFind(<MapVal>a, new StrVal(n.name)) >= 0);
    }
    case N_INDEX: return index(evaluate(n.children[0]), evaluate(n.children[1]));
    case N_CALL: return call(n);
    case N_LIST: {
      const items = new Array<Val>();
      for (let i = 0; i < n.children.length; i++) {
        const v = evaluate(n.children[i]);
        if (v.t == T_ERROR) return v;
        items.push(v);
      }
      return new ListVal(items);
    }
    case N_MAP: {
      const keys = new Array<Val>();
      const vals = new Array<Val>();
      for (let i = 0; i < n.children.length; i += 2) {
        const k = evaluate(n.children[i]);
        if (k.t == T_ERROR) return k;
        if (!validKey(k)) return new ErrVal(`unsupported key type: ${typeName(k)}`);
        if (mapFind(new MapVal(keys, vals), k) >= 0) return new ErrVal(`Failed with repeated key: ${show(k)}`);
        const v = evaluate(n.children[i + 1]);
        if (v.t == T_ERROR) return v;
        keys.push(k);
        vals.push(v);
      }
      return new MapVal(keys, vals);
    }
    case N_AND:
    case N_OR: {
      const decide = n.kind == N_OR; // the value that decides
      const a = evaluate(n.children[0]);
      if (a.t == T_BOOL && (<BoolVal>a).b == decide) return a;
      const b = evaluate(n.children[1]);
      if (b.t == T_BOOL && (<BoolVal>b).b == decide) return b;
      if (a.t == T_BOOL && b.t == T_BOOL) return boolOf(!decide);
      if (a.t == T_ERROR) return a;
      if (b.t == T_ERROR) return b;
      return noOverload(decide ? '_||_' : '_&&_', a, b);
    }
    case N_COND: {
      const c = evaluate(n.children[0]);
      if (c.t == T_ERROR) return c;
      if (c.t != T_BOOL) return noOverload('_?_:_', c);
      return evaluate(n.children[(<BoolVal>c).b ? 1 : 2]);
    }
    case N_NOT: {
      const a = evaluate(n.children[0]);
      if (a.t == T_ERROR) return a;
      return a.t == T_BOOL ? boolOf(!(<BoolVal>a).b) : noOverload('!_', a);
    }
    case N_NEG: {
      const a = evaluate(n.children[0]);
      if (a.t == T_ERROR) return a;
      if (a.t == T_INT) return (<IntVal>a).i == i64.MIN_VALUE ? overflow('-') : new IntVal(-(<IntVal>a).i);
      if (a.t == T_DOUBLE) return new DoubleVal(-(<DoubleVal>a).d);
      if (a.t == T_DURATION) return makeDur(-(<DurVal>a).sec, -<i64>(<DurVal>a).nanos);
      return noOverload('-_', a);
    }
    case N_BINARY: return binary(n.name, evaluate(n.children[0]), evaluate(n.children[1]));
    case N_COMPREHENSION: return comprehension(n);
  }
  return new ErrVal('unknown expression');
}

// ---------------------------------------------------------------------------------------------------------
// The result, as a typed value (JSON).

function quote(s: string): string {
  // Runs of plain characters copied as substrings, not a character at a time (that was quadratic).
  const parts = new Array<string>();
  parts.push('"');
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c != 0x22 && c != 0x5c && c >= 0x20) continue;
    if (i > start) parts.push(s.substring(start, i));
    if (c == 0x22) parts.push('\\"');
    else if (c == 0x5c) parts.push('\\\\');
    else parts.push('\\u' + c.toString(16).padStart(4, '0'));
    start = i + 1;
  }
  if (s.length > start) parts.push(s.substring(start));
  parts.push('"');
  return parts.join('');
}

function toTyped(v: Val): string {
  switch (v.t) {
    case T_NULL: return '{"null":null}';
    case T_BOOL: return (<BoolVal>v).b ? '{"bool":true}' : '{"bool":false}';
    case T_INT: return `{"int":"${(<IntVal>v).i}"}`;
    case T_UINT: return `{"uint":"${(<UintVal>v).u}"}`;
    case T_DOUBLE: {
      const d = (<DoubleVal>v).d;
      return `{"double":"${isNaN(d) ? 'NaN' : d == Infinity ? 'Infinity' : d == -Infinity ? '-Infinity' : d == 0 && 1 / d < 0 ? '-0' : d.toString()}"}`;
    }
    case T_STRING: return `{"string":${quote((<StrVal>v).s)}}`;
    case T_BYTES: return `{"bytes":"${base64Encode((<BytesVal>v).b)}"}`;
    case T_TYPE: return `{"type":${quote((<TypeVal>v).name)}}`;
    case T_TIMESTAMP: return `{"timestamp":"${formatTimestamp(<TsVal>v)}"}`;
    case T_DURATION: return `{"duration":"${formatDuration(<DurVal>v)}"}`;
    case T_LIST: {
      const items = (<ListVal>v).items;
      const parts = new Array<string>();
      for (let i = 0; i < items.length; i++) parts.push(toTyped(items[i]));
      return `{"list":[${parts.join(',')}]}`;
    }
    case T_MAP: {
      const m = <MapVal>v;
      const parts = new Array<string>();
      for (let i = 0; i < m.keys.length; i++) parts.push(`[${toTyped(m.keys[i])},${toTyped(m.vals[i])}]`);
      return `{"map":[${parts.join(',')}]}`;
    }
  }
  return `{"error":${quote((<ErrVal>v).msg)}}`;
}

/** Reads the variables: the JSON object at the start of the input region, `actLen` bytes. 0, or an engine error code. */
function readVariables(actLen: u32): i32 {
  varNames.length = 0;
  varValues.length = 0;
  if (actLen == 0) return 0;
  setFractions(true);
  const code = parse(actLen);
  setFractions(false);
  if (code != 0) return code;
  if (kindOf(0) != K_OBJECT) return 12;
  let c: u32 = 1;
  for (let i: u32 = 0; i < word(0, 1); i++) {
    varNames.push(nodeString(c));
    varValues.push(fromTyped(c + 1));
    c = skip(c + 1);
  }
  return 0;
}

/** Parses and evaluates the `len` bytes of expression at `p` over the variables read: the outcome as JSON. */
function evaluateOne(p: usize, len: u32): string {
  steps = 0;
  limitHit = null;
  parseError = null;
  depth = 0;
  evalDepth = 0;
  scopeNames.length = 0;
  scopeValues.length = 0;
  if (len > MAX_EXPR_BYTES) return `{"limit":${quote(`the expression is longer than ${MAX_EXPR_BYTES} bytes`)}}`;
  const okUtf8 = utf8Round(p, len);
  src = p;
  srcLen = len;
  pos = 0;
  if (!okUtf8) parseError = 'the expression is not UTF-8';
  next();
  const root = parseExpr();
  if (parseError === null && tokKind != TK_EOF) syntax(`unexpected '${tokText}' after the expression`);
  if (parseError !== null) return `{"parseError":${quote(<string>parseError)}}`;
  const v = evaluate(root);
  if (limitHit !== null) return `{"limit":${quote(<string>limitHit)}}`;
  // A result is written whole: one that shares structure can be far larger than the memory it takes.
  outputUnits = 0;
  if (resultTooLarge(v)) return `{"limit":${quote(`the result is larger than ${MAX_OUTPUT_UNITS} values and characters`)}}`;
  return toTyped(v);
}

const MAX_OUTPUT_UNITS: i64 = 1 << 24;
let outputUnits: i64 = 0;

/** Whether writing `v` would pass MAX_OUTPUT_UNITS (values, and characters of strings and bytes). */
function resultTooLarge(v: Val): bool {
  outputUnits += 1;
  if (v.t == T_STRING) outputUnits += (<StrVal>v).s.length;
  else if (v.t == T_BYTES) outputUnits += (<BytesVal>v).b.length * 2;
  else if (v.t == T_LIST) {
    const items = (<ListVal>v).items;
    for (let i = 0; i < items.length && outputUnits <= MAX_OUTPUT_UNITS; i++) if (resultTooLarge(items[i])) return true;
  } else if (v.t == T_MAP) {
    const m = <MapVal>v;
    for (let i = 0; i < m.keys.length && outputUnits <= MAX_OUTPUT_UNITS; i++) if (resultTooLarge(m.keys[i]) || resultTooLarge(m.vals[i])) return true;
  }
  return outputUnits > MAX_OUTPUT_UNITS;
}

function writeOut(result: string, out: Region): i64 {
  const bytes = String.UTF8.encode(result);
  const at = out.ensure(bytes.byteLength);
  memory.copy(at, changetype<usize>(bytes), bytes.byteLength);
  return bytes.byteLength;
}

/**
 * Evaluates the expression in input[0, exprLen) with the variables of the JSON object in input[exprLen, exprLen +
 * actLen) (typed values). Writes the result to `out`: a typed value, `{"error": message}` (a CEL error),
 * `{"parseError": message}`, or `{"limit": message}`. Returns the length written, or a negated engine error code for
 * a malformed activation.
 */
export function celEvaluate(exprLen: u32, actLen: u32, out: Region): i64 {
  return celEvaluateMany(exprLen, actLen, out, false);
}

/**
 * `celEvaluate` for several expressions over one set of variables, read once: input[0, exprsLen) holds them separated
 * by NUL bytes (a NUL cannot occur in an expression's text). With `many`, writes a JSON array of their outcomes, in
 * order; without, the one outcome of the whole text.
 */
export function celEvaluateMany(exprsLen: u32, actLen: u32, out: Region, many: bool): i64 {
  // The expressions' bytes are copied out first: the variables are parsed in place from the start of the input.
  const exprs = heap.alloc(max<usize>(exprsLen, 1));
  memory.copy(exprs, input.ptr, exprsLen);
  if (actLen > 0) memory.copy(input.ptr, input.ptr + exprsLen, actLen);
  const code = readVariables(actLen);
  if (code != 0) {
    heap.free(exprs);
    return -<i64>code;
  }
  let result: string;
  if (!many) result = evaluateOne(exprs, exprsLen);
  else {
    const parts = new Array<string>();
    let start: u32 = 0;
    for (let i: u32 = 0; i <= exprsLen; i++) {
      if (i == exprsLen || load<u8>(exprs + i) == 0) {
        parts.push(evaluateOne(exprs + start, i - start));
        start = i + 1;
      }
    }
    result = `[${parts.join(',')}]`;
  }
  heap.free(exprs);
  return writeOut(result, out);
}

/** Whether the `len` bytes at `p` are well-formed UTF-8 (the expression's own check, before decoding). */
function utf8Round(p: usize, len: u32): bool {
  const b = new Uint8Array(len);
  memory.copy(b.dataStart, p, len);
  return validUtf8(b);
}
