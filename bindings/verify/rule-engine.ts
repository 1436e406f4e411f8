/**
 * Artifact rules (the hash chain between steps), evaluated by the WASM engine: a thin typed layer over the
 * exports documented in docs/ABI.md, "Artifact rules". No signatures, thresholds or I/O here: the caller
 * passes link bytes it has already authenticated and the rules it has already parsed (`bindings/metadata/rules.ts`).
 *
 * Each link crosses into the engine once, as the bytes it was read as; the engine keeps only its artifact
 * tables. One call then applies every rule of every item and returns every failure, with the trace of which
 * rule consumed which artifacts.
 *
 *   const rules = new RuleEngine();
 *   const build = rules.load(buildLinkBytes);              // a Metablock; { select: 'whole' } for a DSSE payload
 *   const result = rules.apply(items, new Map([['build', build]]));
 *   rules.close();
 *
 * or, in one call, `evaluateRules(items, [{ name: 'build', bytes }])`.
 */
import { getEngine, toUtf8, type Engine, type Select } from '../engine.js';
import { InTotoError } from '../errors.js';
import { ruleToString, type ArtifactRule } from '../metadata/rules.js';

/** The engine exports this file drives (docs/ABI.md). */
interface RuleExports {
  memory: WebAssembly.Memory;
  input_ptr(len: number): number;
  output_ptr(): number;
  output_len(): number;
  error_offset(): number;
  release(): void;
  set_seed(a: number, b: number, c: number, d: number): number;
  link_store(len: number, select: number): number;
  link_read(len: number, select: number, flags: number, maxArtifacts: number): number;
  aux_ptr(): number;
  aux_len(): number;
  aux_split(): number;
  link_side_json(slot: number, which: number): number;
  link_free(slot: number): number;
  link_compose(materialsFrom: number, productsFrom: number): number;
  links_equal(a: number, b: number): number;
  rules_apply(len: number, flags: number): number;
  glob_match(patternLen: number, pathLen: number): number;
  glob_steps(): number;
  probe_count(): number;
}

/** What `RuleEngine.readEnvelope` read: a Metablock, or a DSSE link attestation (see there). */
export type EnvelopeRead =
  /** `canonical` is absent when `onSigned` (see `readEnvelope`) said it was not needed. */
  | { readonly kind: 'metablock'; readonly handle: LinkHandle; readonly canonical?: Uint8Array; readonly lean: string }
  | { readonly kind: 'dsse'; readonly handle: LinkHandle; readonly signedBytes: Uint8Array; readonly envelope: string; readonly statement: string };

/**
 * A document written straight into the engine's input region, not copied from bytes in JavaScript: `fill` writes
 * at most `length + 1` bytes into the view it is given (one more than expected: a file that grew) and returns how
 * many it wrote, at most `length`, or throws. When the engine refuses the document or leaves it to the host, the
 * bytes are copied out into `bytes` for the host's own reading and messages.
 */
export interface LinkFill {
  readonly length: number;
  fill(into: Uint8Array): number;
  bytes?: Uint8Array;
}

/** `link_read` (select 2): a DSSE envelope the engine leaves to the host (docs/ABI.md). */
const E_NOT_LINK_ATTESTATION = 21;

export type ArtifactSide = 'materials' | 'products';

/** What a failing rule did: DISALLOW matched queued artifacts, REQUIRE missed its file, MATCH hit the
 *  reference's KeyError (a queued path whose re-joined source path is not an artifact). */
export type RuleFailureCode = 'RULE_DISALLOW' | 'RULE_REQUIRE' | 'RULE_MATCH';

/** A step or inspection and its artifact rules. Its own link is the one named `name` among the links. */
export interface RuleItem {
  readonly name: string;
  readonly kind?: 'step' | 'inspection';
  /** `expected_materials`. */
  readonly materials: readonly ArtifactRule[];
  /** `expected_products`. */
  readonly products: readonly ArtifactRule[];
}

export interface RuleFailure {
  readonly code: RuleFailureCode;
  readonly item: string;
  /** Position of the item in the list passed to `apply`. */
  readonly itemIndex: number;
  readonly kind?: 'step' | 'inspection';
  readonly side: ArtifactSide;
  /** Index in the item's rule list of that side. */
  readonly ruleIndex: number;
  readonly rule: ArtifactRule;
  /** The rule as written (`ruleToString`). */
  readonly ruleText: string;
  /** DISALLOW: the queued artifacts it matched; REQUIRE: the file it required; MATCH: the queued artifacts. */
  readonly artifacts: readonly string[];
  /** MATCH only: for each artifact, the source path the reference looked up and did not find. */
  readonly sources?: readonly string[];
  readonly message: string;
}

/** What one rule of one item side consumed (one entry per rule, in order). */
export interface RuleTraceEntry {
  readonly item: string;
  readonly itemIndex: number;
  readonly kind?: 'step' | 'inspection';
  readonly side: ArtifactSide;
  /** Index in the item's rule list of that side; the implicit `ALLOW *` at the end has the list's length. */
  readonly ruleIndex: number;
  /** The rule as written, or `ALLOW *` for the implicit last rule. */
  readonly rule: string;
  /** Set on the entry of the implicit `ALLOW *` (present only when it took something). */
  readonly implicit?: true;
  readonly consumed: readonly string[];
}

export interface RuleResult {
  readonly passed: boolean;
  readonly failures: readonly RuleFailure[];
  /** Empty unless asked for (`trace: true`). */
  readonly trace: readonly RuleTraceEntry[];
}

export interface ApplyOptions {
  /** Return which rule consumed which artifacts (default true; large links make it large). */
  readonly trace?: boolean;
}

/** A link whose artifact tables the engine holds. Valid until freed or its `RuleEngine` is closed. */
export class LinkHandle {
  readonly #owner: RuleEngine;
  readonly slot: number;
  constructor(owner: RuleEngine, slot: number) {
    this.#owner = owner;
    this.slot = slot;
  }
  ownedBy(owner: RuleEngine): boolean {
    return this.#owner === owner;
  }
}

/** Engine instances already given a hash key (one key per instance: tables of other sessions stay valid). */
const seeded = new WeakSet<object>();

const TRACE_FLAG = 1;
const E_NO_SLOT = 18;
const E_PROGRAM = 19;
const E_ARTIFACTS = 16;
const MESSAGE_LIST = 10;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A session over one engine: loads links, applies rules, frees the links when closed. Sessions on one
 * engine do not disturb each other. If the engine traps (and restarts), links loaded before are gone: the
 * session then refuses to go on rather than read another session's tables.
 */
/**
 * `count` random 32-bit words: node:crypto's where there is one (reached synchronously through
 * `process.getBuiltinModule`; Node loads WebCrypto's whole module on the first use of `globalThis.crypto`, about
 * 1 ms of a tool's start), else WebCrypto's.
 */
function randomWords(count: number): Uint32Array {
  type NodeCrypto = typeof import('node:crypto');
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const node = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  const words = new Uint32Array(count);
  return typeof node?.randomFillSync === 'function' ? node.randomFillSync(words) : globalThis.crypto.getRandomValues(words);
}

export class RuleEngine {
  readonly #engine: Engine;
  readonly #instance: object;
  readonly #live = new Set<LinkHandle>();
  #probes = 0;
  #steps = 0;

  constructor(engine: Engine = getEngine()) {
    this.#engine = engine;
    this.#instance = engine.invoke((exports) => {
      const ex = exports as unknown as RuleExports;
      if (!seeded.has(ex)) {
        // SipHash key for the artifact tables: paths are attacker-chosen, the key must not be guessable.
        const key = randomWords(4);
        ex.set_seed(key[0]!, key[1]!, key[2]!, key[3]!);
        seeded.add(ex);
      }
      return ex;
    });
  }

  /** Runs `fn` on this session's engine instance; refuses if the instance is not the one links went to. */
  #call<T>(fn: (ex: RuleExports) => T): T {
    return this.#engine.invoke((exports) => {
      if (exports !== this.#instance) {
        throw new InTotoError('ENGINE', 'the engine was restarted after a trap: the links this rule session loaded are gone');
      }
      return fn(exports as unknown as RuleExports);
    });
  }

  #handle(handle: LinkHandle, label: string): number {
    if (!(handle instanceof LinkHandle) || !handle.ownedBy(this) || !this.#live.has(handle)) {
      throw new TypeError(`${label} must be a live LinkHandle of this RuleEngine`);
    }
    return handle.slot;
  }

  /** Copies `bytes` into the engine's input region (views made after the call that may grow memory). */
  #input(ex: RuleExports, bytes: Uint8Array): void {
    const ptr = ex.input_ptr(bytes.length);
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  }

  /**
   * Loads a link's `materials` and `products`. `select: 'signed'` (default) reads a Metablock's `signed`;
   * `'whole'` reads the document itself (e.g. a DSSE payload). Throws `InTotoError` (`JSON`, `FORMAT`, `LIMIT`).
   */
  load(link: Uint8Array | string, select: Select = 'signed'): LinkHandle {
    const bytes = typeof link === 'string' ? toUtf8(link) : link;
    const limit = this.#engine.limits.maxInputBytes;
    if (bytes.length > limit) {
      throw new InTotoError('LIMIT', `link of ${bytes.length} bytes is larger than the limit of ${limit} bytes`);
    }
    const result = this.#call((ex) => {
      this.#input(ex, bytes);
      const slot = ex.link_store(bytes.length, select === 'signed' ? 1 : 0);
      const offset = ex.error_offset();
      this.#probes = ex.probe_count();
      if (bytes.length > 16 << 20) ex.release();
      return { slot, offset };
    });
    if (result.slot < 0) this.#loadError(-result.slot, result.offset, bytes, select);
    const handle = new LinkHandle(this, result.slot);
    this.#live.add(handle);
    return handle;
  }

  #loadError(code: number, offset: number, bytes: Uint8Array, select: Select): never {
    if (code <= 11) {
      // A parse error: the engine's own validator reports it with the library's messages and offset.
      this.#engine.validate(bytes);
    }
    if (code === 12) {
      throw new InTotoError('FORMAT', select === 'signed' ? 'invalid link: "signed" is not a JSON object' : 'invalid link: not a JSON object', { field: select === 'signed' ? 'signed' : '' });
    }
    if (code === 13) throw new InTotoError('FORMAT', 'invalid link: the document has no "signed" member', { field: 'signed' });
    if (code === 14) throw new InTotoError('LIMIT', `link of ${bytes.length} bytes is larger than the engine's input limit`);
    if (code === 20) throw new InTotoError('LIMIT', `the link's ${jsonStringAt(bytes, offset) ?? 'materials or products'} hold more artifacts than the limit (maxArtifacts)`, { offset });
    if (code === E_ARTIFACTS) {
      const key = jsonStringAt(bytes, offset);
      throw new InTotoError(
        'FORMAT',
        `invalid link: materials and products must map each path to an object of hex digests; ${key === undefined ? `see byte ${offset}` : `"${key}" (byte ${offset}) does not`}`,
        { offset, ...(key === undefined ? {} : { artifact: key }) },
      );
    }
    throw new InTotoError('ENGINE', `the engine refused the link (code ${code})`, { engineCode: code });
  }

  /**
   * Reads a link in one engine pass, for hosts that keep its artifacts in the engine and parse only the rest:
   * its artifact tables (`handle`), the canonical bytes of the link object when `canonical` is set (a
   * Metablock's signed bytes), and `lean`, the document as plain JSON text with the link's `materials` and
   * `products` written as `{}`. Refuses what `load` refuses, with the same errors.
   */
  read(link: Uint8Array, select: Select, canonical: boolean, maxArtifacts = 0xffffffff): { handle: LinkHandle; canonical?: Uint8Array; lean: string } {
    const limit = this.#engine.limits.maxInputBytes;
    if (link.length > limit) {
      throw new InTotoError('LIMIT', `link of ${link.length} bytes is larger than the limit of ${limit} bytes`);
    }
    const result = this.#call((ex) => {
      this.#input(ex, link);
      const slot = ex.link_read(link.length, select === 'signed' ? 1 : 0, canonical ? 1 : 0, Math.min(maxArtifacts, 0xffffffff) >>> 0);
      const offset = ex.error_offset();
      if (slot < 0) return { slot, offset };
      const bytes = canonical ? new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len()).slice() : undefined;
      const lean = decoder.decode(new Uint8Array(ex.memory.buffer, ex.aux_ptr(), ex.aux_len()));
      // A large link's parse buffers go back to the engine's allocator at once, for the next link to reuse
      // (memory that must grow grows by doubling).
      if (link.length > 16 << 20) ex.release();
      return { slot, offset, bytes, lean };
    });
    if (result.slot < 0) this.#loadError(-result.slot, result.offset, link, select);
    const handle = new LinkHandle(this, result.slot);
    this.#live.add(handle);
    return { handle, lean: result.lean!, ...(result.bytes ? { canonical: result.bytes } : {}) };
  }

  /**
   * Reads a link file whatever its envelope, in one engine pass: a Metablock as `read(bytes, 'signed', true)`
   * does; a DSSE envelope whose payload is a Statement with a link v0.3 predicate with its signed bytes
   * (PAE(payloadType, payload), copied out), the envelope's JSON with `"payload": ""`, and the Statement's JSON
   * with `subject` and `predicate.materials` emptied (their ResourceDescriptors are the link's artifact tables).
   * `undefined` for any other DSSE envelope, including one the engine does not take as it is: the host's own
   * reader (bindings/attestation/) then reads it and says what is wrong. Refuses what `read` refuses otherwise.
   */
  readEnvelope(source: Uint8Array | LinkFill, maxArtifacts = 0xffffffff, onSigned?: (signed: Uint8Array, lean: string) => boolean): EnvelopeRead | undefined {
    const limit = this.#engine.limits.maxInputBytes;
    if (source.length > limit) {
      throw new InTotoError('LIMIT', `link of ${source.length} bytes is larger than the limit of ${limit} bytes`);
    }
    const fill = source instanceof Uint8Array ? undefined : source;
    // What the host's callbacks throw is rethrown after the call: inside it, any error but an InTotoError is taken
    // for a trap and restarts the engine (with every link loaded).
    let thrown: { error: unknown } | undefined;
    const result = this.#call((ex) => {
      let len = source.length;
      let ptr: number;
      if (fill) {
        ptr = ex.input_ptr(len + 1);
        try {
          len = fill.fill(new Uint8Array(ex.memory.buffer, ptr, len + 1));
        } catch (error) {
          thrown = { error };
          return undefined;
        }
      } else {
        ptr = ex.input_ptr(len);
        new Uint8Array(ex.memory.buffer, ptr, len).set(source as Uint8Array);
      }
      const slot = ex.link_read(len, 2, 1, Math.min(maxArtifacts, 0xffffffff) >>> 0);
      const offset = ex.error_offset();
      this.#probes = ex.probe_count();
      // Refused, or left to the host: the host reads (or explains) the bytes itself. The input region is as written.
      if (slot < 0 && fill) fill.bytes = new Uint8Array(ex.memory.buffer, ptr, len).slice();
      if (slot < 0) return { slot, offset, len };
      const view = new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len());
      const aux = new Uint8Array(ex.memory.buffer, ex.aux_ptr(), ex.aux_len());
      const split = ex.aux_split();
      const lean = decoder.decode(split === 0 ? aux : aux.subarray(0, split));
      const statement = split === 0 ? undefined : decoder.decode(aux.subarray(split));
      let keep = true;
      if (split === 0 && onSigned) {
        try {
          keep = onSigned(view, lean);
        } catch (error) {
          ex.link_free(slot);
          thrown = { error };
          return undefined;
        }
      }
      const signed = keep ? view.slice() : undefined;
      if (!fill && len > 16 << 20) ex.release();
      return { slot, offset, len, signed, lean, statement };
    });
    if (thrown || !result) throw thrown!.error;
    const bytes = fill ? fill.bytes! : (source as Uint8Array);
    if (result.slot === -E_NOT_LINK_ATTESTATION) return undefined;
    if (result.slot < 0) this.#loadError(-result.slot, result.offset, bytes, 'signed');
    const handle = new LinkHandle(this, result.slot);
    this.#live.add(handle);
    if (result.statement === undefined) return { kind: 'metablock', handle, lean: result.lean!, ...(result.signed ? { canonical: result.signed } : {}) };
    return { kind: 'dsse', handle, signedBytes: result.signed!, envelope: result.lean!, statement: result.statement };
  }

  /** One side of a loaded link, as `path -> {algorithm: digest}` (for messages and summaries: it copies). */
  artifacts(handle: LinkHandle, side: ArtifactSide): Record<string, Record<string, string>> {
    const slot = this.#handle(handle, 'handle');
    const json = this.#call((ex) => {
      const code = ex.link_side_json(slot, side === 'materials' ? 0 : 1);
      if (code < 0) throw new InTotoError('ENGINE', `the engine could not list the link's ${side} (code ${-code})`);
      return decoder.decode(new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len()));
    });
    return JSON.parse(json) as Record<string, Record<string, string>>;
  }

  /** A new link with the materials of `materialsFrom` and the products of `productsFrom` (a summary link). */
  compose(materialsFrom: LinkHandle, productsFrom: LinkHandle): LinkHandle {
    const a = this.#handle(materialsFrom, 'materialsFrom');
    const b = this.#handle(productsFrom, 'productsFrom');
    const slot = this.#call((ex) => ex.link_compose(a, b));
    if (slot < 0) throw new InTotoError('ENGINE', `the engine could not compose links (code ${-slot})`);
    const handle = new LinkHandle(this, slot);
    this.#live.add(handle);
    return handle;
  }

  /** Whether two links record equal materials and equal products (python's dict equality). */
  equal(a: LinkHandle, b: LinkHandle): boolean {
    const x = this.#handle(a, 'a');
    const y = this.#handle(b, 'b');
    return this.#call((ex) => ex.links_equal(x, y)) === 1;
  }

  free(handle: LinkHandle): void {
    const slot = this.#handle(handle, 'handle');
    this.#live.delete(handle);
    this.#call((ex) => ex.link_free(slot));
  }

  /** Frees every link of this session. */
  close(): void {
    const slots = [...this.#live].map((h) => h.slot);
    this.#live.clear();
    try {
      // Freeing the large parse buffers once, here, rather than after each large link lets the next link reuse
      // pages already touched (measured: 199 -> 178 MiB peak for three 22 MiB links).
      this.#call((ex) => {
        slots.forEach((slot) => ex.link_free(slot));
        ex.release();
      });
    } catch (error) {
      // A restarted engine has nothing of ours left to free.
      if (!(error instanceof InTotoError && error.code === 'ENGINE')) throw error;
    }
  }

  // `using` closes the session where the runtime has `Symbol.dispose`. Defined here rather than as a
  // `[Symbol.dispose]()` member: the published types must compile with an ES2022 lib, which has no such symbol.
  static {
    if (typeof Symbol.dispose === 'symbol') {
      Object.defineProperty(this.prototype, Symbol.dispose, { value(this: RuleEngine) { this.close(); }, writable: true, configurable: true });
    }
  }

  /** Diagnostics: hash-table probe steps of the last `load`, `readEnvelope` or `apply`, and glob steps of the last `apply`. */
  get lastCounts(): { readonly probes: number; readonly globSteps: number } {
    return { probes: this.#probes, globSteps: this.#steps };
  }

  /**
   * Applies every item's rules, materials then products, in order. `links` maps step (and inspection) names
   * to links, like the reference's `links` dict: an item's own link is `links[item.name]`, and `MATCH ... FROM
   * <name>` compares with `links[name]` (nothing is consumed when there is none).
   */
  apply(items: readonly RuleItem[], links: ReadonlyMap<string, LinkHandle>, options: ApplyOptions = {}): RuleResult {
    const trace = options.trace ?? true;
    const slots: Record<string, number> = Object.create(null);
    for (const [name, handle] of links) slots[name] = this.#handle(handle, `links.get(${JSON.stringify(name)})`);
    for (const item of items) {
      if (!links.has(item.name)) {
        throw new InTotoError('LINK_MISSING', `no link for ${item.kind ?? 'item'} '${item.name}' to apply its artifact rules to`, { step: item.name });
      }
    }
    // Rules cross as the layout's own token lists; the engine reads them with unpack_rule's grammar.
    const program = toUtf8(
      JSON.stringify({
        links: slots,
        items: items.map((item) => ({
          name: item.name,
          materials: item.materials.map((rule) => rule.tokens),
          products: item.products.map((rule) => rule.tokens),
        })),
      }),
    );
    const out = this.#call((ex) => {
      this.#input(ex, program);
      const code = ex.rules_apply(program.length, trace ? TRACE_FLAG : 0);
      this.#probes = ex.probe_count();
      this.#steps = ex.glob_steps();
      if (code !== 0) return { code, offset: ex.error_offset(), text: '' };
      // Copy out before anything else runs: the output region is reused by the next call.
      const text = decoder.decode(new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len()));
      if (program.length > 16 << 20 || ex.output_len() > 16 << 20) ex.release();
      return { code, offset: 0, text };
    });
    if (out.code !== 0) throw programError(out.code, out.offset, program);
    return decodeResult(JSON.parse(out.text) as EngineResult, items, trace);
  }
}

// The type of the `Symbol.dispose` method above, where the program's lib has `Symbol.dispose` (esnext, @types/node).
type Disposal = SymbolConstructor extends { readonly dispose: infer D extends symbol } ? { [K in D]: () => void } : {};
export interface RuleEngine extends Disposal {}

interface EngineRule {
  code?: RuleFailureCode;
  artifacts?: string[];
  sources?: string[];
  consumed?: string[];
}
interface EngineSide {
  rules: EngineRule[];
  allowed?: string[];
}
interface EngineResult {
  items: { name: string; materials: EngineSide; products: EngineSide }[];
  failures: number;
}

function decodeResult(result: EngineResult, items: readonly RuleItem[], withTrace: boolean): RuleResult {
  const failures: RuleFailure[] = [];
  const trace: RuleTraceEntry[] = [];
  result.items.forEach((sides, i) => {
    const item = items[i]!;
    for (const side of ['materials', 'products'] as const) {
      const rules = item[side];
      const kind = item.kind === undefined ? {} : { kind: item.kind };
      sides[side].rules.forEach((found, ruleIndex) => {
        if (found.code === undefined) return;
        const rule = rules[ruleIndex]!;
        const ruleText = ruleToString(rule);
        const artifacts = found.artifacts ?? [];
        failures.push({
          code: found.code,
          item: item.name,
          itemIndex: i,
          ...kind,
          side,
          ruleIndex,
          rule,
          ruleText,
          artifacts,
          ...(found.sources ? { sources: found.sources } : {}),
          message: failureMessage(found.code, item, side, ruleIndex, ruleText, artifacts, found.sources),
        });
      });
      if (withTrace) {
        sides[side].rules.forEach((r, ruleIndex) => {
          trace.push({ item: item.name, itemIndex: i, ...kind, side, ruleIndex, rule: ruleToString(rules[ruleIndex]!), consumed: r.consumed ?? [] });
        });
        const allowed = sides[side].allowed ?? [];
        if (allowed.length > 0) {
          trace.push({ item: item.name, itemIndex: i, ...kind, side, ruleIndex: rules.length, rule: 'ALLOW *', implicit: true, consumed: allowed });
        }
      }
    }
  });
  return { passed: failures.length === 0, failures, trace };
}

function listed(paths: readonly string[]): string {
  const shown = paths.slice(0, MESSAGE_LIST).map((p) => JSON.stringify(p));
  return paths.length > MESSAGE_LIST ? `${shown.join(', ')} and ${paths.length - MESSAGE_LIST} more` : shown.join(', ');
}

function failureMessage(
  code: RuleFailureCode,
  item: RuleItem,
  side: ArtifactSide,
  ruleIndex: number,
  ruleText: string,
  artifacts: readonly string[],
  sources: readonly string[] | undefined,
): string {
  const where = `${item.kind ?? 'item'} '${item.name}', expected_${side}[${ruleIndex}] '${ruleText}'`;
  if (code === 'RULE_DISALLOW') return `${where}: disallowed artifacts that no earlier rule consumed: ${listed(artifacts)}`;
  if (code === 'RULE_REQUIRE') return `${where}: ${listed(artifacts)} is not among the ${side} still queued (absent, or consumed by an earlier rule)`;
  const pairs = artifacts.map((a, i) => `${JSON.stringify(a)} -> ${JSON.stringify(sources?.[i] ?? '')}`);
  return `${where}: the source path re-joined from the prefix is not an artifact of this ${side} (the reference fails with KeyError here): ${pairs.slice(0, MESSAGE_LIST).join(', ')}`;
}

function programError(code: number, offset: number, program: Uint8Array): InTotoError {
  const token = jsonStringAt(program, offset);
  if (code === E_PROGRAM) {
    return new InTotoError('FORMAT', `the rule engine refused the rules program${token === undefined ? '' : ` at "${token}"`} (a malformed artifact rule)`, {
      offset,
      ...(token === undefined ? {} : { rule: token }),
    });
  }
  if (code === 5) return new InTotoError('FORMAT', 'a rule or a step name is not valid Unicode (it holds a lone surrogate)');
  if (code === E_NO_SLOT) return new InTotoError('ENGINE', 'the engine holds no link for a handle passed in');
  return new InTotoError('ENGINE', `the rule engine refused the program (code ${code})`, { engineCode: code });
}

/** The JSON string whose opening quote is at `offset` of `bytes`, decoded, or undefined. */
function jsonStringAt(bytes: Uint8Array, offset: number): string | undefined {
  if (bytes[offset] !== 0x22) return undefined;
  let i = offset + 1;
  while (i < bytes.length && bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
  try {
    return JSON.parse(decoder.decode(bytes.subarray(offset, i + 1))) as string;
  } catch {
    return undefined;
  }
}

/** A link for `evaluateRules`: its bytes as read, and which part holds the link. */
export interface NamedLink {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** `'signed'` (default): a Metablock; `'whole'`: the document is the link (a DSSE payload). */
  readonly select?: Select;
}

/** Loads the links, applies the items' rules, frees the links: `RuleEngine` in one call. */
export function evaluateRules(items: readonly RuleItem[], links: Iterable<NamedLink>, options: ApplyOptions & { engine?: Engine } = {}): RuleResult {
  const session = new RuleEngine(options.engine ?? getEngine());
  try {
    const handles = new Map<string, LinkHandle>();
    for (const link of links) handles.set(link.name, session.load(link.bytes, link.select ?? 'signed'));
    return session.apply(items, handles, options);
  } finally {
    session.close();
  }
}

/** python's `fnmatch.fnmatch` on POSIX, as the engine evaluates artifact-rule patterns. */
export function matchGlob(pattern: string, path: string, engine: Engine = getEngine()): boolean {
  const p = toUtf8(pattern);
  const s = toUtf8(path);
  return (
    engine.invoke((exports) => {
      const ex = exports as unknown as RuleExports;
      const ptr = ex.input_ptr(p.length + s.length);
      const view = new Uint8Array(ex.memory.buffer, ptr, p.length + s.length);
      view.set(p);
      view.set(s, p.length);
      return ex.glob_match(p.length, s.length);
    }) === 1
  );
}
