/**
 * Attestation payloads are ordinary JSON (RFC 8259), not canonical JSON: numbers may have fractions and
 * exponents. They are read by the engine all the same, with every other strict check kept (duplicate keys,
 * invalid UTF-8, lone surrogates, depth and size): a duplicate key in a signed payload is a parser-differential
 * attack, whatever the number syntax. A number a float64 may not hold exactly comes back as a `JsonNumber`
 * holding its text, so nothing signed is silently rounded.
 */
import { getEngine, toUtf8 } from '../engine.js';

/** A JSON number kept exactly as written (a fraction, an exponent, or more than 15 digits). */
export class JsonNumber {
  constructor(readonly text: string) {}
  /** The nearest float64 (may round: compare `text` where exactness matters). */
  valueOf(): number {
    return Number(this.text);
  }
  toJSON(): number {
    return Number(this.text);
  }
  toString(): string {
    return this.text;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The value of an ordinary JSON document, checked by the engine; inexact numbers as `JsonNumber`s. */
export function parseOrdinaryJson(json: Uint8Array | string): unknown {
  const bytes = typeof json === 'string' ? toUtf8(json) : json;
  const { inexact } = getEngine().validateOrdinary(bytes);
  const text = typeof json === 'string' ? json : decoder.decode(bytes);
  return inexact ? new ExactReader(text).document() : JSON.parse(text);
}

/**
 * A reader for text the engine has already validated, used only when a number needs keeping exact: it need not
 * report errors, only build the value. Iterative, with its own stack: a caller may raise the engine's depth limit
 * to 10,000, deeper than a JavaScript stack goes.
 */
class ExactReader {
  #at = 0;
  constructor(readonly text: string) {}

  document(): unknown {
    /** Open containers, innermost last; an object's pending key beside it. */
    const stack: { container: Record<string, unknown> | unknown[]; key?: string }[] = [];
    let result: unknown;
    const place = (value: unknown) => {
      const top = stack[stack.length - 1];
      if (!top) result = value;
      else if (Array.isArray(top.container)) top.container.push(value);
      else Object.defineProperty(top.container, top.key!, { value, enumerable: true, writable: true, configurable: true });
    };
    for (;;) {
      this.#space();
      const top = stack[stack.length - 1];
      const c = this.text[this.#at];
      // After a value (or at an opening bracket's first member): a separator, or the end of a container.
      if (c === ',') {
        this.#at++;
        continue;
      }
      if (c === '}' || c === ']') {
        this.#at++;
        const done = stack.pop()!;
        place(done.container);
        if (stack.length === 0) return result;
        const parent = stack[stack.length - 1]!;
        if (!Array.isArray(parent.container)) parent.key = undefined;
        continue;
      }
      if (top && !Array.isArray(top.container) && top.key === undefined) {
        top.key = this.#string();
        this.#space();
        this.#at++; // ':'
        continue;
      }
      if (c === '{' || c === '[') {
        this.#at++;
        stack.push({ container: c === '{' ? {} : [] });
        continue;
      }
      place(this.#scalar());
      if (top && !Array.isArray(top.container)) top.key = undefined;
      if (stack.length === 0) return result;
    }
  }

  #space(): void {
    while (this.#at < this.text.length && ' \t\n\r'.includes(this.text[this.#at]!)) this.#at++;
  }

  #scalar(): unknown {
    const c = this.text[this.#at]!;
    if (c === '"') return this.#string();
    if (this.text.startsWith('true', this.#at)) return (this.#at += 4), true;
    if (this.text.startsWith('false', this.#at)) return (this.#at += 5), false;
    if (this.text.startsWith('null', this.#at)) return (this.#at += 4), null;
    const start = this.#at;
    while (this.#at < this.text.length && '+-.0123456789eE'.includes(this.text[this.#at]!)) this.#at++;
    const literal = this.text.slice(start, this.#at);
    return /^-?\d{1,15}$/.test(literal) ? Number(literal) : new JsonNumber(literal);
  }

  #string(): string {
    const start = this.#at;
    this.#at++;
    while (this.text[this.#at] !== '"') this.#at += this.text[this.#at] === '\\' ? 2 : 1;
    this.#at++;
    return JSON.parse(this.text.slice(start, this.#at)) as string;
  }
}
