/**
 * Generates JSON documents for differential tests: a value tree plus several ways to spell it in bytes
 * (compact, indented, python's on-disk form with non-ASCII as \uXXXX surrogate pairs, gratuitous escapes).
 * Deterministic from a seed, so a failure can be replayed.
 */

export type Value = null | boolean | bigint | string | Value[] | { entries: [string, Value][] };

/** A small, seedable PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly random: () => number) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** One code point from the classes canonical JSON gets wrong most easily. */
  codePoint(): number {
    switch (this.int(0, 9)) {
      case 0: return this.int(0, 0x1f); // control characters
      case 1: return this.pick([0x22, 0x5c, 0x2f, 0x27]); // quote, backslash, slash, apostrophe
      case 2: return this.int(0x80, 0x7ff);
      case 3: return this.int(0x800, 0xd7ff);
      case 4: return this.int(0xe000, 0xffff); // above the surrogates: sorts after astral in UTF-16
      case 5: return this.int(0x10000, 0x10ffff); // astral plane
      case 6: return this.pick([0x1f600, 0x10000, 0x10ffff, 0xfeff, 0xfffd, 0xffff, 0x7f, 0]);
      default: return this.int(0x20, 0x7e);
    }
  }

  string(maxLength: number): string {
    const n = this.int(0, maxLength);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCodePoint(this.codePoint());
    return s;
  }

  integer(): bigint {
    switch (this.int(0, 4)) {
      case 0: return BigInt(this.int(-10, 10));
      case 1: return BigInt(this.int(-2147483648, 2147483647));
      case 2: {
        // Beyond 2^53 and 2^64: python keeps them exact, and so must we.
        const digits = this.int(16, 400);
        let s = String(this.int(1, 9));
        for (let i = 1; i < digits; i++) s += String(this.int(0, 9));
        return BigInt(this.random() < 0.5 ? `-${s}` : s);
      }
      case 3: return this.pick([0n, -0n, 9007199254740993n, -9223372036854775809n, 18446744073709551616n]);
      default: return BigInt(this.int(0, 1000));
    }
  }

  value(depth: number, maxDepth: number): Value {
    const leaf = depth >= maxDepth || this.random() < 0.35;
    if (leaf) {
      switch (this.int(0, 5)) {
        case 0: return null;
        case 1: return this.random() < 0.5;
        case 2: return this.integer();
        default: return this.string(12);
      }
    }
    if (this.random() < 0.5) {
      const n = this.int(0, 6);
      return Array.from({ length: n }, () => this.value(depth + 1, maxDepth));
    }
    const n = this.int(0, 8);
    const keys = new Set<string>();
    while (keys.size < n) keys.add(this.random() < 0.1 ? '' : this.string(6));
    return { entries: [...keys].map((k) => [k, this.value(depth + 1, maxDepth)] as [string, Value]) };
  }

  /** Nested arrays/objects exactly `depth` deep. */
  deep(depth: number): Value {
    let v: Value = this.string(3);
    for (let i = 0; i < depth; i++) v = this.random() < 0.5 ? [v] : { entries: [[this.string(2), v]] };
    return v;
  }
}

export type Spelling = 'compact' | 'indented' | 'python-disk' | 'escapes';

function escapeString(s: string, spelling: Spelling, g: Gen): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const u = (c: number) => '\\u' + c.toString(16).padStart(4, '0');
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (cp < 0x20) out += { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[cp] ?? u(cp);
    else if (spelling === 'python-disk' && cp > 0x7e) {
      // json.dumps(ensure_ascii=True): every non-ASCII character as \uXXXX, astral ones as a surrogate pair.
      for (let i = 0; i < ch.length; i++) out += u(ch.charCodeAt(i));
    } else if (spelling === 'escapes' && g.random() < 0.3) {
      const pick = g.int(0, 2);
      if (pick === 0 && ch === '/') out += '\\/';
      else if (pick === 1) for (let i = 0; i < ch.length; i++) out += u(ch.charCodeAt(i)).toUpperCase().replace('\\U', '\\u');
      else for (let i = 0; i < ch.length; i++) out += u(ch.charCodeAt(i));
    } else out += ch;
  }
  return out + '"';
}

/** Serializes a value tree as JSON text, spelled one of several equivalent ways. */
export function spell(v: Value, spelling: Spelling, g: Gen, indent = ''): string {
  const nl = spelling === 'indented' || spelling === 'python-disk' ? '\n' : '';
  const step = spelling === 'indented' ? '  ' : spelling === 'python-disk' ? ' ' : '';
  const inner = indent + step;
  const sep = spelling === 'compact' ? ':' : ': ';
  const ws = () => (spelling === 'escapes' ? g.pick(['', ' ', '\t', '\r\n', '  ']) : '');
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return v === 0n && g.random() < 0.3 ? '-0' : v.toString();
  if (typeof v === 'string') return escapeString(v, spelling, g);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[' + ws() + ']';
    const items = v.map((x) => ws() + nl + inner + spell(x, spelling, g, inner) + ws());
    return '[' + items.join(',') + nl + indent + ']';
  }
  let entries = v.entries;
  if (spelling === 'python-disk') entries = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '{' + ws() + '}';
  const items = entries.map(([k, x]) => ws() + nl + inner + escapeString(k, spelling, g) + ws() + sep + ws() + spell(x, spelling, g, inner) + ws());
  return '{' + items.join(',') + nl + indent + '}';
}
