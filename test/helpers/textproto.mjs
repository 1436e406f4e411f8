/**
 * Protocol buffers' text format, as far as cel-spec's conformance files use it: `field: scalar`, `field { message }`
 * (with or without a colon), `[type.url] { ... }` keys, repeated fields, `[a, b]` lists, `#` comments, strings with C
 * escapes (kept as bytes: the reader of a field decides whether they are UTF-8). A message is a list of (key, value).
 * Plain JavaScript (types: textproto.d.mts), so that plain Node reads it too: the runtime harnesses convert cel-spec's
 * tests with it (scripts/runtimes/cel-spec.mjs), as the interop suite does (test/interop/cel-conformance.test.ts).
 */
export function parseTextproto(text) {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  const peek = () => bytes[at];
  const space = () => {
    while (at < bytes.length) {
      const c = bytes[at];
      if (c === 0x23) while (at < bytes.length && bytes[at] !== 0x0a) at++;
      else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      else break;
    }
  };
  const fail = (what) => {
    throw new Error(`textproto: ${what} at byte ${at}`);
  };
  const ident = () => {
    const start = at;
    while (at < bytes.length && /[A-Za-z0-9_.\-+]/.test(String.fromCharCode(bytes[at]))) at++;
    if (at === start) fail('expected a name');
    return new TextDecoder().decode(bytes.subarray(start, at));
  };
  const string = () => {
    const out = [];
    // Adjacent strings concatenate.
    do {
      const quote = bytes[at++];
      while (bytes[at] !== quote) {
        if (at >= bytes.length) fail('unterminated string');
        const c = bytes[at++];
        if (c !== 0x5c) {
          out.push(c);
          continue;
        }
        const e = String.fromCharCode(bytes[at++]);
        const simple = { n: 10, r: 13, t: 9, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
        if (e in simple) out.push(simple[e]);
        else if (e === 'x' || e === 'X') {
          let h = '';
          while (h.length < 2 && /[0-9a-fA-F]/.test(String.fromCharCode(bytes[at]))) h += String.fromCharCode(bytes[at++]);
          out.push(parseInt(h, 16));
        } else if (/[0-7]/.test(e)) {
          let o = e;
          while (o.length < 3 && /[0-7]/.test(String.fromCharCode(bytes[at]))) o += String.fromCharCode(bytes[at++]);
          out.push(parseInt(o, 8) & 0xff);
        } else if (e === 'u' || e === 'U') {
          const n = e === 'u' ? 4 : 8;
          const cp = parseInt(new TextDecoder().decode(bytes.subarray(at, at + n)), 16);
          at += n;
          out.push(...new TextEncoder().encode(String.fromCodePoint(cp)));
        } else fail(`unknown escape \\${e}`);
      }
      at++;
      space();
    } while (peek() === 0x22 || peek() === 0x27);
    return Uint8Array.from(out);
  };
  const value = () => {
    space();
    const c = peek();
    if (c === 0x7b || c === 0x3c) return { kind: 'message', fields: message(c === 0x7b ? 0x7d : 0x3e) };
    if (c === 0x22 || c === 0x27) return { kind: 'string', bytes: string() };
    if (c === 0x5b) {
      at++;
      const items = [];
      space();
      while (peek() !== 0x5d) {
        items.push(value());
        space();
        if (peek() === 0x2c) at++;
        space();
      }
      at++;
      return { kind: 'list', items };
    }
    const word = ident();
    return /^[-+]?(\d|\.\d|inf|nan)/i.test(word) ? { kind: 'number', text: word } : { kind: 'ident', text: word };
  };
  const message = (close) => {
    if (close !== undefined) at++;
    const fields = [];
    for (;;) {
      space();
      if (at >= bytes.length) {
        if (close !== undefined) fail('unterminated message');
        return fields;
      }
      if (peek() === close) {
        at++;
        return fields;
      }
      let key;
      if (peek() === 0x5b) {
        const end = bytes.indexOf(0x5d, at);
        key = new TextDecoder().decode(bytes.subarray(at, end + 1));
        at = end + 1;
      } else key = ident();
      space();
      if (peek() === 0x3a) at++;
      fields.push([key, value()]);
      space();
      if (peek() === 0x2c || peek() === 0x3b) at++;
    }
  };
  return message();
}

export const field = (m, key) => m.find(([k]) => k === key)?.[1];
export const fields = (m, key) => m.filter(([k]) => k === key).map(([, v]) => v);
export const messageOf = (v) => (v?.kind === 'message' ? v.fields : []);
export const textOf = (v) => (v?.kind === 'string' ? new TextDecoder().decode(v.bytes) : v?.kind === 'number' || v?.kind === 'ident' ? v.text : '');
