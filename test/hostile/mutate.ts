/**
 * Mutation operators over metadata files: raw bytes (flip, set, insert, delete, duplicate, swap), JSON
 * structure (delete, add, replace, swap fields; duplicate keys spelled plainly or with escapes; numbers and
 * strings respelled; Unicode normalization), envelopes (signatures duplicated, reordered, replayed, forged;
 * DSSE payloads and payload types changed), whole files replayed from elsewhere, and spellings that keep the
 * meaning (whitespace, key order, escapes, base64 alphabets) so that the accepting side is exercised too.
 */
import { fromBase64, toBase64 } from '../../bindings/encoding.js';
import { dumpCompactJson, dumpReferenceJson } from '../../bindings/metadata/reference-json.js';
import { fromUtf8, Rng, utf8 } from './chains.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Mutant {
  readonly operator: string;
  readonly bytes: Uint8Array;
}

/** What a mutation may draw on besides the file itself: the other files of this chain and of other chains. */
export interface Context {
  readonly others: readonly Uint8Array[];
}

const INTERESTING_BYTES = [
  0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x30, 0x31, 0x2d, 0x2e, 0x65, 0x20, 0x0a, 0x09, 0x0d, 0x00, 0x7f,
  0x80, 0xbf, 0xc0, 0xc1, 0xc3, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xfe, 0xff, 0x61, 0x41, 0x2f, 0x75,
];

const INSERTIONS = [
  ',', '"', '\\', '{', '}', '[', ']', ':', ' ', '\n', '\t', '\u0000', '\\u0000', '\\ud800', '\\udc00', '\\ud83d\\ude00',
  '-0', '1e2', '1.0', '00', 'null', 'true', '{}', '[]', '"x":1,', '"_type":"link",', '"signed":{},', '\ufeff', '\u00e9',
  'e\u0301', '\xed\xa0\x80', '\\/', '"', "'", 'NaN', 'Infinity',
];

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** Raw byte mutations: most break the JSON; some land in strings, numbers or hex and base64 signatures. */
function byteMutation(r: Rng, bytes: Uint8Array): Mutant {
  const at = r.int(0, Math.max(bytes.length - 1, 0));
  switch (r.int(0, 7)) {
    case 0: {
      const out = bytes.slice();
      out[at] = out[at]! ^ (1 << r.int(0, 7));
      return { operator: 'byte:flip-bit', bytes: out };
    }
    case 1: {
      const out = bytes.slice();
      out[at] = r.pick(INTERESTING_BYTES);
      return { operator: 'byte:set', bytes: out };
    }
    case 2: {
      const insertion = r.chance(0.5) ? Uint8Array.of(r.pick(INTERESTING_BYTES)) : latin1OrUtf8(r.pick(INSERTIONS));
      return { operator: 'byte:insert', bytes: splice(bytes, at, 0, insertion) };
    }
    case 3:
      return { operator: 'byte:delete', bytes: splice(bytes, at, 1) };
    case 4: {
      const n = r.int(2, 64);
      return { operator: 'byte:delete-range', bytes: splice(bytes, at, Math.min(n, bytes.length - at)) };
    }
    case 5: {
      const from = r.int(0, bytes.length - 1);
      const n = Math.min(r.int(1, 80), bytes.length - from);
      return { operator: 'byte:duplicate-range', bytes: splice(bytes, at, 0, bytes.slice(from, from + n)) };
    }
    case 6: {
      const out = bytes.slice();
      const other = r.int(0, bytes.length - 1);
      [out[at], out[other]] = [out[other]!, out[at]!];
      return { operator: 'byte:swap', bytes: out };
    }
    default: {
      // Change a hex or base64 digit: lands in signatures, digests and key ids.
      const text = fromUtf8(bytes);
      const positions = [...text.matchAll(/[0-9a-f]{16,}/g)].flatMap((m) => [m.index!, m.index! + r.int(0, m[0].length - 1)]);
      if (positions.length === 0) return { operator: 'byte:hex-digit', bytes };
      const p = r.pick(positions);
      const c = text[p]!;
      const next = '0123456789abcdef'[('0123456789abcdef'.indexOf(c) + r.int(1, 15)) % 16]!;
      return { operator: 'byte:hex-digit', bytes: utf8.encode(text.slice(0, p) + next + text.slice(p + 1)) };
    }
  }
}

/** Strings of the insertion table: `\xNN` escapes in them stand for raw bytes (invalid UTF-8 on purpose). */
function latin1OrUtf8(s: string): Uint8Array {
  return /^[\x80-\xff]+$/.test(s) ? Uint8Array.from(s, (c) => c.charCodeAt(0)) : utf8.encode(s);
}

// ---- JSON structure -------------------------------------------------------------------------------------

interface Slot {
  parent: Json[] | { [key: string]: Json };
  key: string | number;
}

function slots(value: Json, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      slots(v, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push({ parent: value, key: k });
      slots(v, out);
    }
  }
  return out;
}

function containers(value: Json, out: (Json[] | { [key: string]: Json })[] = []): (Json[] | { [key: string]: Json })[] {
  if (Array.isArray(value)) {
    out.push(value);
    value.forEach((v) => containers(v, out));
  } else if (value !== null && typeof value === 'object') {
    out.push(value);
    Object.values(value).forEach((v) => containers(v, out));
  }
  return out;
}

const get = (s: Slot): Json => (s.parent as Record<string | number, Json>)[s.key]!;
const set = (s: Slot, v: Json) => put(s.parent as Record<string | number, Json>, s.key, v);

/** An own data property, even for `__proto__` (plain assignment would set the prototype instead). */
function put(o: Record<string | number, Json>, key: string | number, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const FIELD_NAMES = [
  '_type', 'name', 'signed', 'signatures', 'payload', 'payloadType', 'keyid', 'sig', 'threshold', 'pubkeys', 'keys',
  'materials', 'products', 'expires', 'steps', 'inspect', 'expected_materials', 'expected_products', 'expected_command',
  'command', 'byproducts', 'environment', 'run', 'sha256', 'sha512', '__proto__', 'constructor', 'toString', '',
  'cert_constraints', 'rootcas', 'other_headers',
];

function interestingValue(r: Rng, doc: Json): Json {
  switch (r.int(0, 14)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1, 2, 3, 2 ** 31, 2 ** 53 - 1]);
    case 3: return '';
    case 4: return r.pick(['link', 'layout', 'step', 'inspection', 'LINK', 'app', 'src/app.c', '*', '../app', '/app', 'a\\b', 'app\u0000', 'e\u0301']);
    case 5: return [];
    case 6: return {};
    case 7: return r.pick([['ALLOW', '*'], ['DISALLOW', '*'], ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['CREATE', '*']]);
    case 8: return { sha256: 'e5'.repeat(32) };
    case 9: return '2000-01-01T00:00:00Z';
    case 10: return '9999-12-31T23:59:59Z';
    default: {
      // A copy of a random subtree of the document itself.
      const all = slots(doc);
      return all.length === 0 ? null : structuredClone(get(r.pick(all)));
    }
  }
}

function tweakString(r: Rng, s: string): string {
  switch (r.int(0, 8)) {
    case 0: return s + r.pick(['x', ' ', '\n', '\u0000', '/', '\u00e9']);
    case 1: return s.slice(0, -1);
    case 2: return s.toUpperCase();
    case 3: return s.normalize(r.chance(0.5) ? 'NFD' : 'NFC') === s ? `${s}\u0301` : s.normalize(r.chance(0.5) ? 'NFD' : 'NFC');
    case 4: return s.replaceAll('/', '\\');
    case 5: return `../${s}`;
    case 6: return `/${s}`;
    case 7: return s.replace(/[a-z]/, (c) => String.fromCharCode(c.charCodeAt(0) ^ 1));
    default: return `${s}\u200b`; // zero-width space: looks the same
  }
}

function structuralEdit(r: Rng, doc: Json): string {
  const all = slots(doc);
  const holders = containers(doc);
  switch (r.int(0, 6)) {
    case 0: {
      if (all.length === 0) return 'json:none';
      const s = r.pick(all);
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete s.parent[s.key as string];
      return 'json:delete';
    }
    case 1: {
      const h = r.pick(holders);
      const v = interestingValue(r, doc);
      if (Array.isArray(h)) h.splice(r.int(0, h.length), 0, v);
      else put(h, r.chance(0.7) ? r.pick(FIELD_NAMES) : `x${r.int(0, 9)}`, v);
      return 'json:add';
    }
    case 2: {
      if (all.length === 0) return 'json:none';
      const s = r.pick(all);
      const old = get(s);
      set(s, typeof old === 'string' && r.chance(0.6) ? tweakString(r, old) : typeof old === 'number' && r.chance(0.6) ? old + r.pick([1, -1, 1000]) : interestingValue(r, doc));
      return 'json:replace';
    }
    case 3: {
      if (all.length < 2) return 'json:none';
      const a = r.pick(all);
      const b = r.pick(all);
      const va = structuredClone(get(a));
      const vb = structuredClone(get(b));
      set(a, vb);
      set(b, va);
      return 'json:swap';
    }
    case 4: {
      // Rename a key (e.g. `materials` -> `products`).
      const objects = holders.filter((h): h is { [key: string]: Json } => !Array.isArray(h) && Object.keys(h).length > 0);
      if (objects.length === 0) return 'json:none';
      const o = r.pick(objects);
      const k = r.pick(Object.keys(o));
      const v = o[k]!;
      delete o[k];
      put(o, r.chance(0.5) ? r.pick(FIELD_NAMES) : tweakString(r, k), v);
      return 'json:rename';
    }
    case 5: {
      const arrays = holders.filter((h): h is Json[] => Array.isArray(h) && h.length > 0);
      if (arrays.length === 0) return 'json:none';
      const a = r.pick(arrays);
      if (r.chance(0.5)) a.push(structuredClone(r.pick(a)));
      else a.reverse();
      return 'json:array';
    }
    default: {
      // Every string (keys too) in another Unicode normalization form.
      const form = r.pick(['NFD', 'NFC', 'NFKC'] as const);
      const walk = (v: Json): Json =>
        typeof v === 'string' ? v.normalize(form)
        : Array.isArray(v) ? v.map(walk)
        : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.normalize(form), walk(x)]))
        : v;
      const out = walk(doc) as { [key: string]: Json };
      for (const k of Object.keys(doc as object)) delete (doc as Record<string, Json>)[k];
      Object.assign(doc as object, out);
      return `json:normalize-${form}`;
    }
  }
}

/** Serializes as one of several writers would (the reference's, compact, JS's), or a hand-spelled variant. */
function serialize(r: Rng, value: Json): Uint8Array {
  try {
    switch (r.int(0, 3)) {
      case 0: return dumpReferenceJson(value);
      case 1: return dumpCompactJson(value);
      case 2: return utf8.encode(JSON.stringify(value));
      default: return utf8.encode(spell(r, value));
    }
  } catch {
    return utf8.encode(JSON.stringify(value));
  }
}

/** JSON spelled the long way: shuffled keys, random whitespace, characters escaped as \uXXXX (pairs for astral), `\/`. */
export function spell(r: Rng, value: Json): string {
  const ws = () => r.pick(['', '', ' ', '\n', '\t', '\r\n ', '  ']);
  const str = (s: string) => {
    let out = '"';
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      const u = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;
      if (ch === '"') out += r.chance(0.5) ? '\\"' : '\\u0022';
      else if (ch === '\\') out += r.chance(0.5) ? '\\\\' : '\\u005C';
      else if (cp < 0x20) out += { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[cp] ?? u(cp);
      else if (ch === '/' && r.chance(0.3)) out += '\\/';
      else if (r.chance(0.15)) for (let i = 0; i < ch.length; i++) out += r.chance(0.5) ? u(ch.charCodeAt(i)) : u(ch.charCodeAt(i)).toUpperCase().replace('\\U', '\\u');
      else out += ch;
    }
    return out + '"';
  };
  const write = (v: Json): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return ws() + JSON.stringify(v) + ws();
    if (typeof v === 'string') return ws() + str(v) + ws();
    if (Array.isArray(v)) return `${ws()}[${v.length === 0 ? ws() : v.map(write).join(',')}]${ws()}`;
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return `${ws()}{${entries.length === 0 ? ws() : entries.map(([k, x]) => `${ws()}${str(k)}${ws()}:${write(x)}`).join(',')}}${ws()}`;
  };
  return write(value);
}

/** The same key twice in one object, the second spelled plainly or with escapes (`"n\u0061me"`). */
function duplicateKey(r: Rng, doc: Json): Uint8Array | undefined {
  const objects = containers(doc).filter((h): h is { [key: string]: Json } => !Array.isArray(h) && Object.keys(h).length > 0);
  if (objects.length === 0) return undefined;
  const o = r.pick(objects);
  const k = r.pick(Object.keys(o));
  const sentinel = '\u0001duplicate\u0001';
  put(o, sentinel, r.chance(0.5) ? structuredClone(o[k]!) : interestingValue(r, doc));
  const escaped = [...k].map((c, i) => (i === 0 || r.chance(0.5) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
  const text = JSON.stringify(doc).replace(JSON.stringify(sentinel), r.chance(0.5) ? JSON.stringify(k) : `"${escaped}"`);
  return utf8.encode(text);
}

/** Numbers written otherwise: `1.0`, `1e0`, `01`, `-0`, `+1`, huge. */
function respellNumber(r: Rng, bytes: Uint8Array): Uint8Array {
  const text = fromUtf8(bytes);
  const numbers = [...text.matchAll(/(?<=[:[,]\s*)-?\d+(?=\s*[,}\]])/g)];
  if (numbers.length === 0) return bytes;
  const m = r.pick(numbers);
  const n = m[0];
  const variant = r.pick([`${n}.0`, `${n}e0`, `0${n}`, `-${n}`, `+${n}`, `${n}E+0`, `${n}0000000000000000000000`, '-0', `${n} ${n}`]);
  return utf8.encode(text.slice(0, m.index!) + variant + text.slice(m.index! + n.length));
}

// ---- envelopes -----------------------------------------------------------------------------------------

function envelopeEdit(r: Rng, doc: { [key: string]: Json }, ctx: Context): string {
  const sigs = Array.isArray(doc.signatures) ? (doc.signatures as { [key: string]: Json }[]) : undefined;
  const isDsse = typeof doc.payload === 'string';
  switch (r.int(0, 10)) {
    case 0:
      if (sigs && sigs.length > 0) sigs.push(structuredClone(sigs[0]!));
      return 'sig:duplicate';
    case 1:
      // A forged signature under the signer's key id, before the real one: the reference checks the first.
      if (sigs && sigs.length > 0) sigs.unshift({ keyid: sigs[0]!.keyid!, sig: isDsse ? toBase64(new Uint8Array(64)) : '00'.repeat(64) });
      return 'sig:forged-first';
    case 2:
      if (sigs && sigs.length > 0) sigs.push({ keyid: 'ab'.repeat(32), sig: isDsse ? 'AAAA' : 'abcd' });
      return 'sig:extra-unknown-key';
    case 3:
      doc.signatures = [];
      return 'sig:none';
    case 4:
      if (sigs && sigs.length > 0) sigs[0]!.keyid = String(sigs[0]!.keyid).toUpperCase();
      return 'sig:keyid-case';
    case 5:
      if (sigs && sigs.length > 0) sigs[0]!.sig = isDsse ? String(sigs[0]!.sig).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '') : String(sigs[0]!.sig).toUpperCase();
      return 'sig:respell'; // the same signature bytes: must still pass
    case 6: {
      // A signature replayed from another file (same key, other content).
      const other = JSON.parse(fromUtf8(r.pick(ctx.others))) as { signatures?: Json[] };
      if (sigs && Array.isArray(other.signatures) && other.signatures.length > 0) sigs.splice(0, sigs.length, ...(structuredClone(other.signatures) as { [key: string]: Json }[]));
      return 'sig:replayed';
    }
    case 7:
      if (sigs && sigs.length > 0) sigs[0]!.other_headers = 'x';
      return 'sig:extra-field'; // unsigned: must still pass
    case 8:
      if (isDsse) {
        doc.payloadType = r.pick(['application/vnd.in-toto+json ', 'application/vnd.in-toto+JSON', 'application/json', 'application/vnd.in-toto+json\u0000', '']);
        return 'dsse:payload-type';
      }
      // Metablock: signatures before signed, or signed wrapped one level deeper.
      doc.signed = r.chance(0.5) ? { signed: doc.signed! } : doc.signed!;
      return 'metablock:nest';
    case 9:
      if (isDsse) {
        // The same payload bytes, base64 spelled otherwise (URL-safe, unpadded): must still pass.
        doc.payload = String(doc.payload).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
        return 'dsse:payload-respell';
      }
      doc.payload = 'e30=';
      return 'metablock:add-payload';
    default:
      // An envelope field of the other kind.
      if (isDsse) doc.signed = { _type: 'link' };
      else doc.payloadType = 'application/vnd.in-toto+json';
      return 'envelope:mixed-kinds';
  }
}

/** One mutant of `bytes` (a valid metadata file). */
export function mutate(r: Rng, bytes: Uint8Array, ctx: Context): Mutant {
  const family = r.int(0, 99);
  if (family < 30) return byteMutation(r, bytes);
  if (family < 33) return { operator: 'file:replayed', bytes: r.pick(ctx.others) };
  if (family < 36) return { operator: 'number:respell', bytes: respellNumber(r, bytes) };

  const doc = JSON.parse(fromUtf8(bytes)) as { [key: string]: Json };
  const isDsse = typeof doc.payload === 'string';
  if (family < 48) {
    const operator = envelopeEdit(r, doc, ctx);
    return { operator, bytes: serialize(r, doc) };
  }
  if (family < 56) {
    // Meaning-preserving spelling of the whole file: passes for a Metablock (canonical bytes unchanged)
    // and for a DSSE envelope (the payload string is untouched).
    return { operator: 'spelling:file', bytes: utf8.encode(spell(r, doc)) };
  }

  // Edits inside the signed content (a Metablock's `signed`, a DSSE payload), signatures kept.
  let inner: Json;
  if (isDsse) inner = JSON.parse(fromUtf8(fromBase64(String(doc.payload))!)) as Json;
  else inner = doc.signed!;
  let operator: string;
  let innerBytes: Uint8Array | undefined;
  if (family < 64) {
    innerBytes = duplicateKey(r, inner);
    operator = 'json:duplicate-key';
  } else if (family < 70 && isDsse) {
    // The payload respelled: other bytes, same JSON value. DSSE signs bytes: must fail.
    innerBytes = utf8.encode(spell(r, inner));
    operator = 'dsse:payload-spelling';
  } else if (family < 74 && isDsse) {
    const payload = fromBase64(String(doc.payload))!;
    innerBytes = byteMutation(r, payload).bytes;
    operator = 'dsse:payload-bytes';
  } else {
    operator = structuralEdit(r, inner);
  }
  if (isDsse) {
    doc.payload = toBase64(innerBytes ?? dumpCompactJson(inner));
    return { operator, bytes: serialize(r, doc) };
  }
  if (innerBytes) {
    // Splice the edited `signed` text into the envelope.
    const text = `{"signatures":${JSON.stringify(doc.signatures)},"signed":${fromUtf8(innerBytes)}}`;
    return { operator, bytes: utf8.encode(text) };
  }
  doc.signed = inner;
  return { operator, bytes: serialize(r, doc) };
}

/**
 * An edit of the signed content, re-signed by the file's own signer: what a holder of that key can do.
 * Returns the new `signed` value; the caller signs it.
 */
export function resignableEdit(r: Rng, signed: Json): { operator: string; signed: Json } {
  const copy = structuredClone(signed);
  const operator = structuralEdit(r, copy);
  return { operator: `resigned:${operator}`, signed: copy };
}
