/**
 * The host side of the WASM engine: loading it, copying documents in, reading results out, and turning
 * engine error codes and traps into `InTotoError`s. The ABI it drives is documented in docs/ABI.md.
 *
 * Nothing runs at import time. `initEngine()` loads the module asynchronously in any runtime; on Node
 * (and Deno) `getEngine()` can also load it synchronously on first use.
 */
import { InTotoError, type ErrorCode } from './errors.js';

/** The engine's exports (docs/ABI.md). */
interface EngineExports {
  memory: WebAssembly.Memory;
  abi_version(): number;
  input_ptr(len: number): number;
  set_max_depth(depth: number): number;
  set_max_input(bytes: number): number;
  validate(len: number): number;
  canonicalize(len: number, select: number): number;
  output_ptr(): number;
  output_len(): number;
  error_offset(): number;
  release(): void;
}

const ABI_VERSION = 1;

/** Engine error codes (assembly/errors.ts), with the library code and a message for each. */
const ENGINE_ERRORS: Record<number, [ErrorCode, string]> = {
  1: ['JSON', 'unexpected end of input'],
  2: ['JSON', 'unexpected character'],
  3: ['JSON', 'invalid UTF-8'],
  4: ['JSON', 'invalid escape sequence'],
  5: ['JSON', 'lone surrogate escape (not encodable as UTF-8)'],
  6: ['JSON', 'unescaped control character in a string'],
  7: ['JSON', 'floating-point number (canonical JSON allows integers only)'],
  8: ['JSON', 'invalid number'],
  9: ['JSON', 'duplicate key in an object'],
  10: ['LIMIT', 'nesting deeper than the configured limit'],
  11: ['JSON', 'data after the end of the document'],
  12: ['FORMAT', 'the document is not a JSON object'],
  13: ['FORMAT', 'the document has no "signed" member'],
  14: ['LIMIT', 'document larger than the configured limit'],
  15: ['ENGINE', 'argument out of range'],
};

/** What part of the document `canonicalize` writes: all of it, or the value of its top-level `signed` member. */
export type Select = 'whole' | 'signed';

export interface EngineLimits {
  /** Deepest nesting of arrays and objects accepted (default 100, at most 10,000). */
  maxDepth?: number;
  /** Largest document accepted, in bytes (default 256 MiB). */
  maxInputBytes?: number;
}

const DEFAULT_LIMITS: Required<EngineLimits> = { maxDepth: 100, maxInputBytes: 256 << 20 };

const utf8 = new TextEncoder();

/** Encodes a JS string as UTF-8, refusing lone surrogates (TextEncoder would silently turn them into U+FFFD). */
export function toUtf8(text: string): Uint8Array {
  if (!text.isWellFormed()) {
    throw new InTotoError('JSON', 'invalid JSON: the string contains a lone surrogate, which UTF-8 cannot encode');
  }
  return utf8.encode(text);
}

/** Reads an AssemblyScript string (UTF-16LE, byte length stored just before it) out of engine memory. */
function readEngineString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

/** One instance of the engine. Methods are synchronous; each call fully owns engine memory until it returns. */
export class Engine {
  readonly #module: WebAssembly.Module;
  #exports!: EngineExports;
  #limits: Required<EngineLimits> = { ...DEFAULT_LIMITS };

  constructor(module: WebAssembly.Module, limits: EngineLimits = {}) {
    this.#module = module;
    this.#instantiate();
    this.setLimits(limits);
  }

  #instantiate(): void {
    const imports = {
      env: {
        abort: (msg: number, file: number, line: number, column: number): never => {
          const memory = this.#exports?.memory;
          const where = memory ? `${readEngineString(memory, msg)} (${readEngineString(memory, file)}:${line}:${column})` : '';
          throw new WebAssembly.RuntimeError(`engine abort ${where}`);
        },
      },
    };
    const instance = new WebAssembly.Instance(this.#module, imports);
    const exports = instance.exports as unknown as EngineExports;
    if (exports.abi_version() !== ABI_VERSION) {
      throw new InTotoError('ENGINE', `engine ABI version ${exports.abi_version()} does not match the bindings' ${ABI_VERSION}`);
    }
    this.#exports = exports;
  }

  /** Bytes of linear memory the instance holds now (WASM memory grows but never shrinks). */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  get limits(): Readonly<Required<EngineLimits>> {
    return this.#limits;
  }

  setLimits(limits: EngineLimits): void {
    const next = { ...this.#limits, ...limits };
    if (!Number.isInteger(next.maxDepth) || next.maxDepth < 1 || next.maxDepth > 10_000) {
      throw new RangeError('maxDepth must be an integer from 1 to 10000');
    }
    if (!Number.isInteger(next.maxInputBytes) || next.maxInputBytes < 1 || next.maxInputBytes > 0x7fff0000) {
      throw new RangeError('maxInputBytes must be an integer from 1 to 2147418112');
    }
    this.#exports.set_max_depth(next.maxDepth);
    this.#exports.set_max_input(next.maxInputBytes);
    this.#limits = next;
  }

  /**
   * Runs `fn` against the exports. A trap (engine bug, out of memory) becomes an `ENGINE` error, and the
   * instance is replaced by a fresh one so that this engine stays usable.
   */
  invoke<T>(fn: (exports: EngineExports) => T): T {
    try {
      return fn(this.#exports);
    } catch (error) {
      if (error instanceof InTotoError) throw error;
      this.#instantiate();
      this.setLimits(this.#limits);
      const detail = error instanceof Error ? error.message : String(error);
      throw new InTotoError('ENGINE', `the WASM engine trapped and was restarted: ${detail}`, {}, { cause: error });
    }
  }

  /** Copies `bytes` into engine memory (the only copy made) and runs `op` on their length. */
  #withInput<T>(bytes: Uint8Array, op: (exports: EngineExports, len: number) => T): T {
    if (bytes.length > this.#limits.maxInputBytes) {
      throw new InTotoError('LIMIT', `document of ${bytes.length} bytes is larger than the limit of ${this.#limits.maxInputBytes} bytes`);
    }
    return this.invoke((exports) => {
      const ptr = exports.input_ptr(bytes.length);
      // Views are created after the call that may have grown memory.
      new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
      const result = op(exports, bytes.length);
      return result;
    });
  }

  #check(exports: EngineExports, code: number): void {
    if (code === 0) return;
    const [libraryCode, message] = ENGINE_ERRORS[code] ?? ['ENGINE', `unknown engine error ${code}`];
    const offset = exports.error_offset();
    const hasOffset = code <= 11; // the parser's own errors carry the offset of the offending byte
    const where = hasOffset ? ` at byte ${offset}` : '';
    throw new InTotoError(libraryCode, `invalid JSON${where}: ${message}`, {
      engineCode: code,
      ...(hasOffset ? { offset } : {}),
      ...(code === 12 || code === 13 ? { field: 'signed' } : {}),
    });
  }

  /** Canonical JSON bytes (securesystemslib's encode_canonical) of a strict JSON document. */
  canonicalize(json: Uint8Array | string, select: Select = 'whole'): Uint8Array {
    const bytes = typeof json === 'string' ? toUtf8(json) : json;
    return this.#withInput(bytes, (exports, len) => {
      const code = exports.canonicalize(len, select === 'signed' ? 1 : 0);
      this.#check(exports, code);
      // Copy out: engine memory is reused by the next call.
      const out = new Uint8Array(exports.memory.buffer, exports.output_ptr(), exports.output_len()).slice();
      if (len > 16 << 20) exports.release();
      return out;
    });
  }

  /** Throws unless `json` is strict JSON (the same checks as `canonicalize`). */
  validate(json: Uint8Array | string): void {
    const bytes = typeof json === 'string' ? toUtf8(json) : json;
    this.#withInput(bytes, (exports, len) => this.#check(exports, exports.validate(len)));
  }
}

let compiled: WebAssembly.Module | undefined;
let shared: Engine | undefined;

/** What `initEngine` accepts: a compiled module, the .wasm bytes, or where to fetch them. */
export type EngineSource = WebAssembly.Module | BufferSource | URL | string | Response | PromiseLike<Response>;

const WASM_URL = new URL('../build/engine.wasm', import.meta.url);

async function compile(source: EngineSource | undefined): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (source === undefined && WASM_URL.protocol === 'file:') return compileFromFileSync();
  const response = await (source === undefined || typeof source === 'string' || source instanceof URL
    ? fetch(source ?? WASM_URL)
    : source);
  if (!response.ok) throw new InTotoError('ENGINE', `could not fetch the engine (${response.status} ${response.url})`);
  return WebAssembly.compile(await response.arrayBuffer());
}

function compileFromFileSync(): WebAssembly.Module {
  // process.getBuiltinModule (Node >= 20.16, Deno 2) reads the file without a static node: import.
  const fs = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.('node:fs') as
    | typeof import('node:fs')
    | undefined;
  if (!fs) {
    throw new InTotoError('UNSUPPORTED', 'this runtime cannot load the engine synchronously: call `await initEngine()` first');
  }
  try {
    return new WebAssembly.Module(fs.readFileSync(WASM_URL));
  } catch (error) {
    throw new InTotoError('ENGINE', `could not load the engine from ${WASM_URL.pathname}`, { path: WASM_URL.pathname }, { cause: error });
  }
}

/**
 * Loads the engine once for the process. Without a source it reads `build/engine.wasm` beside the
 * package (file or fetch, as the runtime allows). Safe to call more than once.
 */
export async function initEngine(source?: EngineSource): Promise<Engine> {
  if (!shared || source !== undefined) {
    compiled = await compile(source);
    shared = new Engine(compiled);
  }
  return shared;
}

/** The process-wide engine; loads it synchronously on first use where the runtime allows. */
export function getEngine(): Engine {
  if (!shared) {
    compiled ??= compileFromFileSync();
    shared = new Engine(compiled);
  }
  return shared;
}

/** A new engine of its own (own memory and limits), from the module already loaded. */
export function createEngine(limits: EngineLimits = {}): Engine {
  compiled ??= compileFromFileSync();
  return new Engine(compiled, limits);
}

/**
 * Canonical JSON (securesystemslib `encode_canonical`, UTF-8) of a JSON document given as bytes or text.
 * Strict: duplicate keys, floats, invalid UTF-8, lone surrogates and over-deep nesting are refused.
 */
export function canonicalize(json: Uint8Array | string): Uint8Array {
  return getEngine().canonicalize(json);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses strict JSON into a JS value: the engine validates first (so duplicate keys and floats never
 * reach `JSON.parse`, which would silently accept them), then `JSON.parse` builds the value.
 */
export function parseJson(json: Uint8Array | string): unknown {
  const engine = getEngine();
  engine.validate(json);
  return JSON.parse(typeof json === 'string' ? json : utf8Decoder.decode(json));
}
