/**
 * The host side of the WASM engine: loading it, copying documents in, reading results out, and turning
 * engine error codes and traps into `InTotoError`s. The ABI it drives is documented in docs/ABI.md.
 *
 * Nothing runs at import time. `initEngine()` loads the module asynchronously in any runtime; on Node
 * (and Deno) `getEngine()` can also load it synchronously on first use.
 *
 * Loading, per runtime (the package's entry points, `bindings/entry/`, pass the default source):
 * - Node, Deno: the file `build/engine.wasm` beside the package, read synchronously if need be;
 * - browsers: `fetch` of that file's URL, compiled while it streams in;
 * - workerd: the module the runtime compiled from `import wasm from './engine.wasm'` (workerd refuses to
 *   compile WebAssembly from bytes at run time, and has no `import.meta.url`).
 * Instances are made synchronously where the runtime allows it (a trap restarts the engine in place).
 * Where a runtime refuses synchronous instantiation (Chromium does above 8 MB of module on the main thread;
 * the engine is far smaller, but the loader does not depend on that), the first instance is made
 * asynchronously and a spare is kept ready, so that a restart after a trap stays synchronous.
 */
import { InTotoError, type ErrorCode } from './errors.js';

// The WebAssembly types the public signatures name, declared structurally: the published .d.ts files must
// compile without the DOM lib (a Node project has `lib: ["es2022"]`, `types: ["node"]`, and no `WebAssembly`).
/** A compiled `WebAssembly.Module`: the global one where the program's libs declare it (the DOM's), else any object. */
type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;
/** A `WebAssembly.Memory`, as much of it as the engine's callers use. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}
/** The DOM's `BufferSource`: bytes to compile. */
type WasmBytes = ArrayBuffer | ArrayBufferView<ArrayBuffer>;

/** The engine's exports (docs/ABI.md). */
interface EngineExports {
  memory: WasmMemory;
  abi_version(): number;
  input_ptr(len: number): number;
  set_max_depth(depth: number): number;
  set_max_input(bytes: number): number;
  validate(len: number): number;
  validate_json(len: number): number;
  cel_eval(exprLen: number, actLen: number): number;
  cel_eval_many(exprsLen: number, actLen: number): number;
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
function readEngineString(memory: WasmMemory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

/** The imports an instance needs; `abort` reads its message from the memory of the instance it belongs to. */
function makeImports(holder: { exports?: EngineExports }): WebAssembly.Imports {
  return {
    env: {
      abort: (msg: number, file: number, line: number, column: number): never => {
        const memory = holder.exports?.memory;
        const where = memory ? `${readEngineString(memory, msg)} (${readEngineString(memory, file)}:${line}:${column})` : '';
        throw new WebAssembly.RuntimeError(`engine abort ${where}`);
      },
    },
  };
}

function checkAbi(exports: EngineExports): EngineExports {
  if (exports.abi_version() !== ABI_VERSION) {
    throw new InTotoError('ENGINE', `engine ABI version ${exports.abi_version()} does not match the bindings' ${ABI_VERSION}`);
  }
  return exports;
}

/** A new instance, made synchronously. Throws `RangeError` where the runtime refuses (see `syncRefused`). */
function instantiateSync(module: WebAssembly.Module): EngineExports {
  const holder: { exports?: EngineExports } = {};
  const instance = new WebAssembly.Instance(module, makeImports(holder));
  holder.exports = instance.exports as unknown as EngineExports;
  return checkAbi(holder.exports);
}

async function instantiateAsync(module: WebAssembly.Module): Promise<EngineExports> {
  const holder: { exports?: EngineExports } = {};
  const instance = await WebAssembly.instantiate(module, makeImports(holder));
  holder.exports = instance.exports as unknown as EngineExports;
  return checkAbi(holder.exports);
}

/** Set once this runtime has refused a synchronous instantiation: engines then keep a spare instance. */
let syncRefused = false;

/** Instances made asynchronously, handed to the next `Engine` constructed (same tick: see `newEngineAsync`). */
let handoff: EngineExports | undefined;

/** One instance of the engine. Methods are synchronous; each call fully owns engine memory until it returns. */
export class Engine {
  readonly #module: WebAssembly.Module;
  /** Undefined only between a trap and the moment a new instance is ready (runtimes refusing sync instantiation). */
  #exports: EngineExports | undefined;
  #limits: Required<EngineLimits> = { ...DEFAULT_LIMITS };
  /** A ready instance to restart into, where synchronous instantiation is refused. */
  #spare: EngineExports | undefined;
  #preparing: Promise<void> | undefined;

  constructor(module: WasmModule, limits: EngineLimits = {}) {
    this.#module = module;
    const prepared = handoff;
    handoff = undefined;
    this.#exports = prepared ?? this.#instantiateSync();
    this.setLimits(limits);
    if (syncRefused) void this.#prepareSpare();
  }

  #instantiateSync(): EngineExports {
    try {
      return instantiateSync(this.#module);
    } catch (error) {
      // Chromium: "WebAssembly.Instance is disallowed on the main thread, if the buffer size is larger than ...".
      // Other RangeErrors (out of memory) are not a refusal.
      if (!(error instanceof RangeError && /disallowed|main thread/i.test(error.message))) throw error;
      syncRefused = true;
      throw new InTotoError('UNSUPPORTED', 'this runtime refuses to instantiate WebAssembly synchronously here: use `await initEngine()`', {}, { cause: error });
    }
  }

  /** Makes a spare instance in the background (only where synchronous instantiation is refused). */
  #prepareSpare(): Promise<void> {
    this.#preparing ??= instantiateAsync(this.#module).then(
      (exports) => {
        this.#spare = exports;
        this.#preparing = undefined;
      },
      () => {
        this.#preparing = undefined;
      },
    );
    return this.#preparing;
  }

  /** Replaces a trapped instance: with the spare if there is one, else synchronously. */
  #restart(): void {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare) {
      this.#exports = spare;
    } else {
      try {
        this.#exports = this.#instantiateSync();
      } catch (error) {
        // Neither a spare nor a synchronous instance: the engine is unusable until one is ready.
        this.#exports = undefined;
        void this.#prepareSpare().then(() => {
          if (this.#exports === undefined && this.#spare) this.#restart();
        });
        throw error;
      }
    }
    this.setLimits(this.#limits);
    if (syncRefused) void this.#prepareSpare();
  }

  /**
   * Resolves once the engine has an instance and, where the runtime refuses synchronous instantiation, a
   * spare one for the next restart. Only needed there, after a trap (`ENGINE` error saying so).
   */
  async ready(): Promise<this> {
    if (this.#exports === undefined || (syncRefused && !this.#spare)) await this.#prepareSpare();
    if (this.#exports === undefined) {
      if (!this.#spare) throw new InTotoError('ENGINE', 'the WASM engine could not be instantiated again after a trap');
      this.#restart();
      if (syncRefused) await this.#prepareSpare();
    }
    return this;
  }

  /** Bytes of linear memory the instance holds now (WASM memory grows but never shrinks). */
  get memoryBytes(): number {
    return this.#exports?.memory.buffer.byteLength ?? 0;
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
    this.#exports?.set_max_depth(next.maxDepth);
    this.#exports?.set_max_input(next.maxInputBytes);
    this.#limits = next;
  }

  /**
   * Runs `fn` against the exports. A trap (engine bug, out of memory) becomes an `ENGINE` error, and the
   * instance is replaced by a fresh one so that this engine stays usable.
   */
  invoke<T>(fn: (exports: EngineExports) => T): T {
    const exports = this.#exports;
    if (exports === undefined) {
      throw new InTotoError('ENGINE', 'the WASM engine trapped and is still restarting: await engine.ready() and try again');
    }
    try {
      return fn(exports);
    } catch (error) {
      if (error instanceof InTotoError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      let restarted = true;
      try {
        this.#restart();
      } catch {
        restarted = false;
      }
      const state = restarted ? 'was restarted' : 'is restarting (await engine.ready())';
      throw new InTotoError('ENGINE', `the WASM engine trapped and ${state}: ${detail}`, {}, { cause: error });
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

  /** Throws the library's error for an engine result `code` on the document `bytes` (0: no error). */
  #check(exports: EngineExports, code: number, bytes: Uint8Array): void {
    if (code === 0) return;
    const [libraryCode, message] = ENGINE_ERRORS[code] ?? ['ENGINE', `unknown engine error ${code}`];
    const offset = exports.error_offset();
    const hasOffset = code <= 11; // the parser's own errors carry the offset of the offending byte
    const where = hasOffset ? ` at ${lineAndColumn(bytes, offset)} (byte ${offset})` : '';
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
      this.#check(exports, code, bytes);
      // Copy out: engine memory is reused by the next call.
      const out = new Uint8Array(exports.memory.buffer, exports.output_ptr(), exports.output_len()).slice();
      if (len > 16 << 20) exports.release();
      return out;
    });
  }

  /** Throws unless `json` is strict JSON (the same checks as `canonicalize`). */
  validate(json: Uint8Array | string): void {
    const bytes = typeof json === 'string' ? toUtf8(json) : json;
    this.#withInput(bytes, (exports, len) => this.#check(exports, exports.validate(len), bytes));
  }

  /**
   * Throws unless `json` is ordinary JSON (RFC 8259: fractions and exponents read, as attestation payloads have
   * them), with the strict checks otherwise (duplicate keys, UTF-8, lone surrogates, depth, size). Returns whether
   * a number in it may not be exact as a float64 (a fraction, an exponent, more than 15 digits).
   */
  validateOrdinary(json: Uint8Array | string): { inexact: boolean } {
    const bytes = typeof json === 'string' ? toUtf8(json) : json;
    return this.#withInput(bytes, (exports, len) => {
      const code = exports.validate_json(len);
      this.#check(exports, code & 0xff, bytes);
      return { inexact: (code & 0x100) !== 0 };
    });
  }

  /**
   * Evaluates a CEL expression (docs/ABI.md, "CEL") with the variables of `activation` (a JSON object of typed
   * values); returns the engine's result JSON (a typed value, `{"error"}`, `{"parseError"}` or `{"limit"}`).
   * `bindings/attestation/cel.ts` is the typed wrapper.
   */
  celEvaluate(expression: Uint8Array, activation: Uint8Array, many = false): string {
    const both = new Uint8Array(expression.length + activation.length);
    both.set(expression);
    both.set(activation, expression.length);
    return this.#withInput(both, (exports) => {
      const code = (many ? exports.cel_eval_many : exports.cel_eval)(expression.length, activation.length);
      this.#check(exports, code, activation);
      return new TextDecoder().decode(new Uint8Array(exports.memory.buffer, exports.output_ptr(), exports.output_len()));
    });
  }
}

let compiled: WebAssembly.Module | undefined;
let shared: Engine | undefined;
let pending: Promise<Engine> | undefined;

/** What `initEngine` accepts: a compiled module, the .wasm bytes, or where to fetch them. */
export type EngineSource = WasmModule | WasmBytes | URL | string | Response | PromiseLike<Response>;

/**
 * `build/engine.wasm` beside the package (this file is `dist/engine.js` or `bindings/engine.ts`). Computed
 * on use, never at import: workerd has no `import.meta.url`. The literal `new URL(..., import.meta.url)`
 * form is the one bundlers recognise and copy the file for.
 */
function defaultWasmUrl(): URL | undefined {
  try {
    return new URL('../build/engine.wasm', import.meta.url);
  } catch {
    return undefined;
  }
}

type ReadFileSync = (path: URL) => Uint8Array;

/** A synchronous file read, where the runtime has one: node:fs (Node, Deno 2, Bun), else `Deno.readFileSync`. */
function fileReader(): ReadFileSync | undefined {
  const g = globalThis as {
    process?: { getBuiltinModule?(id: string): unknown };
    Deno?: { readFileSync?(path: URL): Uint8Array };
  };
  const fs = g.process?.getBuiltinModule?.('node:fs') as { readFileSync?(path: URL): Uint8Array } | undefined;
  if (typeof fs?.readFileSync === 'function') return (path) => fs.readFileSync!(path);
  if (typeof g.Deno?.readFileSync === 'function') return (path) => g.Deno!.readFileSync!(path);
  return undefined;
}

async function compile(source: EngineSource | undefined): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  const url = source ?? defaultWasmUrl();
  if (url === undefined) {
    throw new InTotoError('UNSUPPORTED', 'this runtime cannot locate the engine: pass it to initEngine() (e.g. `import wasm from "in-toto-wasm/engine.wasm"`)');
  }
  if ((url instanceof URL || typeof url === 'string') && String(url).startsWith('file:')) return compileFromFileSync(new URL(url));
  const response = await (typeof url === 'string' || url instanceof URL ? fetch(url) : url);
  if (!response.ok) throw new InTotoError('ENGINE', `could not fetch the engine (${response.status} ${response.url})`);
  // Compile while the bytes stream in where the server says what they are (streaming insists on the type).
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.split(';')[0]?.trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

function compileFromFileSync(url = defaultWasmUrl()): WebAssembly.Module {
  const read = fileReader();
  if (!read || url === undefined || url.protocol !== 'file:') {
    throw new InTotoError('UNSUPPORTED', 'this runtime cannot load the engine synchronously: call `await initEngine()` first');
  }
  let bytes: Uint8Array;
  try {
    bytes = read(url);
  } catch (error) {
    throw new InTotoError('ENGINE', `could not load the engine from ${url.pathname}`, { path: url.pathname }, { cause: error });
  }
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

/**
 * A new engine from `module`: synchronously where the runtime allows, else asynchronously (and then with
 * a spare instance ready for restarts).
 */
async function newEngineAsync(module: WebAssembly.Module, limits: EngineLimits = {}): Promise<Engine> {
  if (!syncRefused) {
    try {
      return new Engine(module, limits);
    } catch (error) {
      if (!(error instanceof InTotoError && error.code === 'UNSUPPORTED')) throw error;
    }
  }
  handoff = await instantiateAsync(module);
  const engine = new Engine(module, limits);
  return engine.ready();
}

/**
 * Loads the engine once for the process. Without a source it reads `build/engine.wasm` beside the
 * package (file or fetch, as the runtime allows). Safe to call more than once; with a source, replaces
 * the process-wide engine.
 */
export async function initEngine(source?: EngineSource): Promise<Engine> {
  if (source === undefined) return ensureEngine(() => undefined);
  const module = await compile(source);
  compiled = module;
  shared = await newEngineAsync(module);
  return shared;
}

/**
 * The process-wide engine, loaded from `source()` (or the default place when that gives `undefined`)
 * unless one is loaded already. Concurrent callers share one load. The per-runtime entry points use this
 * to give `initEngine()` their runtime's default source.
 */
export function ensureEngine(source: () => EngineSource | undefined): Promise<Engine> {
  if (shared) return Promise.resolve(shared);
  pending ??= (async () => {
    const module = compiled ?? (await compile(source()));
    compiled = module;
    shared ??= await newEngineAsync(module);
    return shared;
  })().finally(() => {
    pending = undefined;
  });
  return pending;
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

/**
 * `line L, column C` (both from 1, columns in bytes) of `offset` in `bytes`, as python's
 * json error messages give them: a person finds the place in an editor, not by counting bytes.
 */
function lineAndColumn(bytes: Uint8Array, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return `line ${line}, column ${offset - start + 1}`;
}
