/**
 * The layout wing (`bindings/layout/`) owns writing and reviewing layouts: the builder and the description
 * format (this file), the linter (`lint.ts`, which matches globs with verify's rule engine) and the chain graph
 * (`graph.ts`, which draws a layout and marks a verdict of verify's on it). It sits above verify and beside
 * record, which it does not import.
 * Wing order, lowest first: root (engine, errors, encoding, bigint) < keys < metadata < verify < record, layout
 * < cli, index < entry; test/architecture.test.ts holds the tree to it.
 */
/**
 * Writing layouts: a typed builder, a plain description format (what `in-toto-layout create` reads from YAML
 * or JSON), relative expiry, and signing. What comes out is exactly the `signed` object in-toto 1.3.1 writes
 * for the same layout built with its own API (`Layout()`, `Step(name=...)`, `add_material_rule_from_string`,
 * `add_functionary_key`, `set_relative_expiration`): the same fields, the same defaults, rules split the way
 * `shlex.split` splits them, keys as `import_publickeys_from_file` gives them. Everything is checked by
 * `parseLayout` before it is returned, so a builder never hands out a layout the verifier would refuse.
 *
 *   const layout = new LayoutBuilder()
 *     .readme('foo.py, written by bob, packaged by carol')
 *     .expiresIn({ months: 3 })
 *     .step('write-code', (s) => s.functionaries(bob).command('vi').products('CREATE foo.py', 'DISALLOW *'))
 *     .step('package', (s) => s.functionaries(carol).command('tar zcvf foo.tar.gz foo.py')
 *       .materials(rule.match('foo.py', { from: 'write-code' }), 'DISALLOW *')
 *       .products('CREATE foo.tar.gz', 'ALLOW foo.py', 'DISALLOW *'))
 *     .inspection('untar', (i) => i.run('tar xzf foo.tar.gz').materials('MATCH foo.tar.gz WITH PRODUCTS FROM package'))
 *     .build();
 *   const envelope = await signLayout(layout, [ownerPrivateKey]);
 *
 * Runtime-neutral: no I/O. Key files named in a description are read by the caller's `resolveKey`.
 */
import { createDsse, createMetablock, signEnvelope, type Envelope } from '../metadata/envelope.js';
import { InTotoError } from '../errors.js';
import type { VerificationKey } from '../metadata/envelope.js';
import { keyToDict, publicKeyFromDict, loadPublicKey, type KeyType, type PrivateKey, type PublicKey } from '../keys/keys.js';
import { gpgKeyFromDict, gpgKeyFromExport, gpgKeyToDict, isGpgKey, isGpgKeyDict } from '../keys/openpgp/key.js';
import {
  layoutToJSON, parseLayout,
  type InspectionJSON, type JsonObject, type Layout, type LayoutJSON, type StepJSON,
} from '../metadata/models.js';
import { parseRule, type ArtifactRule, type MatchDestination } from '../metadata/rules.js';

// ---------------------------------------------------------------------------------------------------------
// Rules

/** A rule as the builder takes it: a parsed rule, its tokens, or a string split the way `shlex.split` does. */
export type RuleInput = ArtifactRule | readonly string[] | string;

export interface MatchOptions {
  /** The step (or, for inspections, the inspection) whose link holds the artifacts to compare with. */
  from: string;
  /** Which side of that link: its products (default) or its materials. */
  with?: 'products' | 'materials' | MatchDestination;
  /** `IN <prefix>` before `WITH`: only this item's artifacts under `prefix/` take part, the prefix stripped. */
  in?: string;
  /** `IN <prefix>` after `WITH`: the other link's artifacts are looked up under `prefix/`. */
  destinationIn?: string;
}

const where = (field: string) => ({ field });

/** Rule constructors, so that a rule written in code cannot be malformed. */
export const rule = {
  match(pattern: string, options: MatchOptions): ArtifactRule {
    const destination = (options.with ?? 'products').toUpperCase();
    return parseRule(
      [
        'MATCH', pattern,
        ...(options.in === undefined ? [] : ['IN', options.in]),
        'WITH', destination,
        ...(options.destinationIn === undefined ? [] : ['IN', options.destinationIn]),
        'FROM', options.from,
      ],
      where('rule.match'),
    );
  },
  create: (pattern: string): ArtifactRule => parseRule(['CREATE', pattern], where('rule.create')),
  delete: (pattern: string): ArtifactRule => parseRule(['DELETE', pattern], where('rule.delete')),
  modify: (pattern: string): ArtifactRule => parseRule(['MODIFY', pattern], where('rule.modify')),
  allow: (pattern: string): ArtifactRule => parseRule(['ALLOW', pattern], where('rule.allow')),
  disallow: (pattern: string): ArtifactRule => parseRule(['DISALLOW', pattern], where('rule.disallow')),
  require: (filename: string): ArtifactRule => parseRule(['REQUIRE', filename], where('rule.require')),
} as const;

/** Reads one rule input; errors name `field`, the step and its kind. */
export function toRule(input: RuleInput, field: string, owner?: { name: string; kind: 'step' | 'inspection' }): ArtifactRule {
  const location = { field, ...(owner ? { step: owner.name, kind: owner.kind } : {}) };
  if (typeof input === 'string') return parseRule(shlexSplit(input, field), location);
  if (Array.isArray(input)) return parseRule(input, location);
  if (typeof input === 'object' && input !== null && 'tokens' in input) return parseRule(input.tokens, location);
  throw new InTotoError('FORMAT', `${field}: a rule is a string ("CREATE foo") or a list of tokens (["CREATE", "foo"])`, { field });
}

/**
 * python's `shlex.split(s)` (POSIX mode, no comments), which the reference applies to rule strings and
 * commands given as one string: whitespace separates, `'...'` is literal, `"..."` keeps everything but a
 * backslash before `"` or `\`, a backslash outside quotes escapes the next character.
 */
export function shlexSplit(text: string, field = 'value'): string[] {
  const out: string[] = [];
  let token = '';
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      if (inToken) out.push(token);
      token = '';
      inToken = false;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new InTotoError('FORMAT', `${field}: no closing quotation in ${JSON.stringify(text)}`, { field });
      token += text.slice(i + 1, end);
      inToken = true;
      i = end;
    } else if (c === '"') {
      inToken = true;
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) j++;
        token += text[j];
      }
      if (j >= text.length) throw new InTotoError('FORMAT', `${field}: no closing quotation in ${JSON.stringify(text)}`, { field });
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new InTotoError('FORMAT', `${field}: no escaped character after a final backslash`, { field });
      token += text[++i];
      inToken = true;
    } else {
      token += c;
      inToken = true;
    }
  }
  if (inToken) out.push(token);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Expiry

/** A period as dateutil's `relativedelta` takes it (what `Layout.set_relative_expiration` uses). */
export interface Period {
  years?: number;
  months?: number;
  weeks?: number;
  days?: number;
  hours?: number;
}

const PERIOD_UNITS: ReadonlyMap<string, keyof Period> = new Map([
  ['y', 'years'], ['year', 'years'], ['years', 'years'],
  ['m', 'months'], ['mo', 'months'], ['month', 'months'], ['months', 'months'],
  ['w', 'weeks'], ['week', 'weeks'], ['weeks', 'weeks'],
  ['d', 'days'], ['day', 'days'], ['days', 'days'],
  ['h', 'hours'], ['hour', 'hours'], ['hours', 'hours'],
]);

/** Reads `1y`, `6m` (months), `2w`, `30d`, `12h`, or several: `1y 6m`, `3 months`. */
export function parsePeriod(text: string, field = 'period'): Period {
  const period: Period = {};
  const re = /\s*(\d+)\s*([a-z]+)\s*/gy;
  let m: RegExpExecArray | null;
  let seen = 0;
  let at = 0;
  while ((m = re.exec(text.toLowerCase())) !== null) {
    const unit = PERIOD_UNITS.get(m[2]!);
    if (unit === undefined) break;
    period[unit] = (period[unit] ?? 0) + Number(m[1]);
    seen++;
    at = re.lastIndex;
  }
  if (seen === 0 || at !== text.length) {
    throw new InTotoError('FORMAT', `${field}: a period is written like 30d, 6m, 1y or "1y 6m" (y, m, w, d, h), got ${JSON.stringify(text)}`, { field });
  }
  return period;
}

/**
 * `now + relativedelta(years, months, weeks, days, hours)`: years and months first, the day clamped to the
 * month's length (Jan 31 + 1 month is Feb 28 or 29), then the rest, as dateutil does. In UTC (python uses
 * local time and labels it Z).
 */
export function addPeriod(now: Date, period: Period): Date {
  for (const [name, value] of Object.entries(period)) {
    if (!Number.isSafeInteger(value) || (value as number) < 0) throw new RangeError(`period.${name} must be a non-negative integer`);
  }
  const totalMonths = now.getUTCFullYear() * 12 + now.getUTCMonth() + (period.years ?? 0) * 12 + (period.months ?? 0);
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = new Date(now.getTime());
  shifted.setUTCFullYear(year, month, Math.min(now.getUTCDate(), lastDay));
  const extra = (((period.weeks ?? 0) * 7 + (period.days ?? 0)) * 24 + (period.hours ?? 0)) * 3600e3;
  return new Date(shifted.getTime() + extra);
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the only date format layouts allow. */
export function formatExpires(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readExpires(value: Date | string, field: string): string {
  if (value instanceof Date) return formatExpires(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00Z`;
  throw new InTotoError('FORMAT', `${field}: must be a date written YYYY-MM-DDTHH:MM:SSZ (or YYYY-MM-DD), got ${JSON.stringify(value)}`, { field });
}

// ---------------------------------------------------------------------------------------------------------
// The builder

/** A functionary: a public key, OpenPGP ones too (added to the layout's keys), or the id of a key the layout already lists. */
export type Functionary = VerificationKey | string;

/** Shared by steps and inspections: artifact rules. */
abstract class ItemBuilder<Self> {
  protected readonly _materials: ArtifactRule[] = [];
  protected readonly _products: ArtifactRule[] = [];
  abstract readonly kind: 'step' | 'inspection';

  constructor(readonly name: string) {}

  protected abstract self(): Self;

  /** Appends rules to `expected_materials`. */
  materials(...rules: RuleInput[]): Self {
    for (const r of rules) this._materials.push(toRule(r, `${this.kind} '${this.name}' expected_materials[${this._materials.length}]`, this));
    return this.self();
  }

  /** Appends rules to `expected_products`. */
  products(...rules: RuleInput[]): Self {
    for (const r of rules) this._products.push(toRule(r, `${this.kind} '${this.name}' expected_products[${this._products.length}]`, this));
    return this.self();
  }

  /** Replaces all material rules. */
  setMaterials(rules: readonly RuleInput[]): Self {
    this._materials.length = 0;
    return this.materials(...rules);
  }

  /** Replaces all product rules. */
  setProducts(rules: readonly RuleInput[]): Self {
    this._products.length = 0;
    return this.products(...rules);
  }
}

function commandTokens(args: readonly string[], field: string): string[] {
  // One string is a command line, split as `Step.set_expected_command_from_string` does; several are argv.
  if (args.length === 1) return shlexSplit(args[0]!, field);
  return [...args];
}

export class StepBuilder extends ItemBuilder<StepBuilder> {
  readonly kind = 'step' as const;
  private readonly _pubkeys: string[] = [];
  private _threshold = 1;
  private _command: string[] = [];

  constructor(name: string, private readonly addKey: (key: VerificationKey) => void) {
    super(name);
  }

  protected self(): StepBuilder {
    return this;
  }

  /** Authorizes functionaries (appends to `pubkeys`); keys given as objects are added to the layout's keys. */
  functionaries(...keys: Functionary[]): StepBuilder {
    for (const key of keys) {
      const keyid = typeof key === 'string' ? key : key.keyid;
      if (typeof key !== 'string') this.addKey(key);
      if (!this._pubkeys.includes(keyid)) this._pubkeys.push(keyid);
    }
    return this;
  }

  /** Removes a functionary from `pubkeys` (the key stays in the layout's keys). */
  removeFunctionary(key: Functionary): StepBuilder {
    const keyid = typeof key === 'string' ? key : key.keyid;
    const at = this._pubkeys.indexOf(keyid);
    if (at >= 0) this._pubkeys.splice(at, 1);
    return this;
  }

  /** How many distinct functionaries must sign a link for the step (default 1). */
  threshold(n: number): StepBuilder {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`step '${this.name}': threshold must be a positive integer, got ${n}`);
    this._threshold = n;
    return this;
  }

  /** `expected_command`: argv, or one command line split as `shlex.split` does. A mismatch only warns. */
  command(...args: string[]): StepBuilder {
    this._command = commandTokens(args, `step '${this.name}' expected_command`);
    return this;
  }

  /** @internal */
  static load(step: StepJSON, addKey: (key: VerificationKey) => void): StepBuilder {
    const b = new StepBuilder(step.name, addKey);
    b._pubkeys.push(...step.pubkeys);
    b._threshold = step.threshold;
    b._command = [...step.expected_command];
    b.materials(...step.expected_materials).products(...step.expected_products);
    return b;
  }

  toJSON(): StepJSON {
    return {
      _type: 'step',
      expected_command: [...this._command],
      expected_materials: this._materials.map((r) => [...r.tokens]),
      expected_products: this._products.map((r) => [...r.tokens]),
      name: this.name,
      pubkeys: [...this._pubkeys],
      threshold: this._threshold,
    };
  }
}

export class InspectionBuilder extends ItemBuilder<InspectionBuilder> {
  readonly kind = 'inspection' as const;
  private _run: string[] = [];

  protected self(): InspectionBuilder {
    return this;
  }

  /** The command the verifier runs: argv, or one command line split as `shlex.split` does. */
  run(...args: string[]): InspectionBuilder {
    this._run = commandTokens(args, `inspection '${this.name}' run`);
    return this;
  }

  /** @internal */
  static load(inspection: InspectionJSON): InspectionBuilder {
    const b = new InspectionBuilder(inspection.name);
    b._run = [...inspection.run];
    b.materials(...inspection.expected_materials).products(...inspection.expected_products);
    return b;
  }

  toJSON(): InspectionJSON {
    return {
      _type: 'inspection',
      expected_materials: this._materials.map((r) => [...r.tokens]),
      expected_products: this._products.map((r) => [...r.tokens]),
      name: this.name,
      run: [...this._run],
    };
  }
}

export interface LayoutBuilderOptions {
  /** The clock for relative expiry and the default expiry (one month, as python's `Layout()`). Default: now. */
  now?: Date;
}

/**
 * Builds a layout step by step. Methods return the builder; `build()` returns the checked model, `toJSON()`
 * the plain `signed` object. Steps and inspections keep the order they are added in (it is the order the
 * verifier reports them in, and a sublayout's summary takes the first and last step).
 */
export class LayoutBuilder {
  private readonly now: Date;
  private _readme = '';
  private _expires: string;
  private readonly keys = new Map<string, JsonObject>();
  private readonly steps: StepBuilder[] = [];
  private readonly inspections: InspectionBuilder[] = [];

  constructor(options: LayoutBuilderOptions = {}) {
    this.now = options.now ?? new Date();
    this._expires = formatExpires(addPeriod(this.now, { months: 1 }));
  }

  /** A builder holding an existing layout, to change it (unknown fields, which 1.3.1 drops too, are not kept). */
  static from(layout: Layout | LayoutJSON, options: LayoutBuilderOptions = {}): LayoutBuilder {
    const json = 'type' in layout ? layoutToJSON(layout) : layoutToJSON(parseLayout(layout));
    const b = new LayoutBuilder(options);
    b._readme = json.readme;
    b._expires = json.expires;
    for (const [keyid, key] of Object.entries(json.keys)) b.keys.set(keyid, key);
    for (const step of json.steps) b.steps.push(StepBuilder.load(step, (key) => b.addKey(key)));
    for (const inspection of json.inspect) b.inspections.push(InspectionBuilder.load(inspection));
    return b;
  }

  readme(text: string): this {
    this._readme = text;
    return this;
  }

  /** An absolute expiry: a Date or `YYYY-MM-DDTHH:MM:SSZ`. */
  expires(at: Date | string): this {
    this._expires = readExpires(at, 'expires');
    return this;
  }

  /** Expiry relative to the builder's clock, as `set_relative_expiration`: `{ months: 3 }` or `'3m'`. */
  expiresIn(period: Period | string): this {
    this._expires = formatExpires(addPeriod(this.now, typeof period === 'string' ? parsePeriod(period, 'expiresIn') : period));
    return this;
  }

  /** Adds a functionary key to the layout's `keys` (as `add_functionary_key`; an existing id is replaced). */
  addKey(key: VerificationKey | JsonObject): this {
    if (isGpgKey(key) || isGpgKeyDict(key)) {
      // OpenPGP keys go in as the reference's key dicts, under their fingerprints, subkeys included.
      const gpgKey = isGpgKey(key) ? key : gpgKeyFromDict(key);
      this.keys.set(gpgKey.keyid, gpgKeyToDict(gpgKey) as unknown as JsonObject);
      return this;
    }
    const publicKey = 'spki' in key ? (key as PublicKey) : publicKeyFromDict(key);
    this.keys.set(publicKey.keyid, keyToDict(publicKey) as unknown as JsonObject);
    return this;
  }

  /** Removes a key from `keys` and from every step's `pubkeys`. */
  removeKey(keyid: string): this {
    this.keys.delete(keyid);
    for (const step of this.steps) step.removeFunctionary(keyid);
    return this;
  }

  /** Adds a step (names of steps and inspections must all differ) and lets `define` fill it in. */
  step(name: string, define?: (step: StepBuilder) => void): this {
    this.claim(name);
    const step = new StepBuilder(name, (key) => this.addKey(key));
    this.steps.push(step);
    define?.(step);
    return this;
  }

  /** Changes an existing step. */
  updateStep(name: string, define: (step: StepBuilder) => void): this {
    const step = this.steps.find((s) => s.name === name);
    if (!step) throw new InTotoError('FORMAT', `no step named '${name}' (steps: ${this.steps.map((s) => s.name).join(', ') || 'none'})`, { step: name });
    define(step);
    return this;
  }

  /** Adds an inspection and lets `define` fill it in. */
  inspection(name: string, define?: (inspection: InspectionBuilder) => void): this {
    this.claim(name);
    const inspection = new InspectionBuilder(name);
    this.inspections.push(inspection);
    define?.(inspection);
    return this;
  }

  /** Changes an existing inspection. */
  updateInspection(name: string, define: (inspection: InspectionBuilder) => void): this {
    const inspection = this.inspections.find((s) => s.name === name);
    if (!inspection) throw new InTotoError('FORMAT', `no inspection named '${name}'`, { step: name });
    define(inspection);
    return this;
  }

  /** Names of the steps, in order. */
  stepNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  private claim(name: string): void {
    if (typeof name !== 'string') throw new TypeError('a step or inspection name must be a string');
    if (this.steps.some((s) => s.name === name) || this.inspections.some((i) => i.name === name)) {
      throw new InTotoError('FORMAT', `the name '${name}' is already used; step and inspection names must be unique`, { step: name });
    }
  }

  /** The `signed` object, fields exactly as in-toto 1.3.1 writes them. */
  toJSON(): LayoutJSON {
    return layoutToJSON(this.build());
  }

  /** The checked layout model (throws `InTotoError` FORMAT naming the field if anything is invalid). */
  build(): Layout {
    return parseLayout({
      _type: 'layout',
      expires: this._expires,
      inspect: this.inspections.map((i) => i.toJSON()),
      keys: Object.fromEntries(this.keys),
      readme: this._readme,
      steps: this.steps.map((s) => s.toJSON()),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Signing

export interface SignLayoutOptions {
  /** `metablock` (default, what in-toto 1.3.1 reads) or `dsse`. */
  format?: 'metablock' | 'dsse';
}

/** A new envelope around the layout, signed by each of `signers` (none: an unsigned envelope). */
export async function signLayout(layout: Layout | LayoutJSON, signers: readonly PrivateKey[], options: SignLayoutOptions = {}): Promise<Envelope> {
  const json = ('type' in layout ? layoutToJSON(layout) : layoutToJSON(parseLayout(layout))) as unknown as Record<string, unknown>;
  let envelope: Envelope = options.format === 'dsse' ? createDsse(json) : createMetablock(json);
  for (const key of signers) envelope = await signEnvelope(envelope, key);
  return envelope;
}

// ---------------------------------------------------------------------------------------------------------
// Descriptions: what people write in YAML or JSON

/**
 * A layout description, as `in-toto-layout create` reads it (YAML or JSON). Short names and in-toto's own
 * field names are both accepted (`functionaries` or `pubkeys`, `command` or `expected_command`, `materials`
 * or `expected_materials`, ...), so a layout's `signed` part is itself a valid description. Unknown fields
 * are refused: a misspelled `prodcuts` must not silently drop the rules.
 *
 *   readme: the demo chain
 *   expires_in: 3m                  # or expires: 2027-01-01T00:00:00Z
 *   keys:
 *     bob: bob.pub                  # a key file (read by the caller's resolveKey), type detected
 *     carol: { path: carol.pub, type: rsa }
 *   steps:
 *     - name: write-code
 *       functionaries: [bob]        # key names, or key ids
 *       command: vi
 *       products: [CREATE foo.py, DISALLOW *]
 *   inspect:
 *     - name: untar
 *       run: tar xzf foo.tar.gz
 *       materials: [MATCH foo.tar.gz WITH PRODUCTS FROM package, DISALLOW *]
 */
export interface LayoutDescription {
  readme?: string;
  expires?: string | Date;
  expires_in?: string | Period;
  /** Key name -> a key file reference (`path` or `{ path, type }`), a key dict, a PEM, or a PublicKey. */
  keys?: Record<string, KeyReference>;
  steps?: StepDescription[];
  inspect?: InspectionDescription[];
  _type?: 'layout';
}

export type KeyReference = string | { path: string; type?: KeyType } | JsonObject | VerificationKey;

export interface StepDescription {
  name: string;
  functionaries?: string[];
  pubkeys?: string[];
  threshold?: number;
  command?: string | string[];
  expected_command?: string | string[];
  materials?: RuleInput[];
  expected_materials?: RuleInput[];
  products?: RuleInput[];
  expected_products?: RuleInput[];
  _type?: 'step';
}

export interface InspectionDescription {
  name: string;
  run?: string | string[];
  materials?: RuleInput[];
  expected_materials?: RuleInput[];
  products?: RuleInput[];
  expected_products?: RuleInput[];
  _type?: 'inspection';
}

export interface DescriptionOptions {
  now?: Date;
  /** Loads a key file named in the description (`path` relative to wherever the host decides). */
  resolveKey?: (ref: { path: string; type?: KeyType }, name: string) => VerificationKey | Promise<VerificationKey>;
}

export interface DescribedLayout {
  readonly layout: Layout;
  /** Key id -> the name the description gave the key, for messages and pictures. */
  readonly keyNames: ReadonlyMap<string, string>;
}

const DESCRIPTION_FIELDS = new Set(['readme', 'expires', 'expires_in', 'keys', 'steps', 'inspect', '_type']);
const STEP_DESCRIPTION_FIELDS = new Set([
  'name', 'functionaries', 'pubkeys', 'threshold', 'command', 'expected_command',
  'materials', 'expected_materials', 'products', 'expected_products', '_type',
]);
const INSPECTION_DESCRIPTION_FIELDS = new Set(['name', 'run', 'materials', 'expected_materials', 'products', 'expected_products', '_type']);

function formatError(field: string, message: string, step?: string): InTotoError {
  return new InTotoError('FORMAT', `${field}: ${message}`, { field, ...(step === undefined ? {} : { step }) });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function checkFields(obj: Record<string, unknown>, known: ReadonlySet<string>, field: string, step?: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) {
      throw formatError(`${field}${field ? '.' : ''}${key}`, `unknown field (known: ${[...known].filter((k) => k !== '_type').join(', ')})`, step);
    }
  }
}

/** Exactly one of two alias fields. */
function alias(obj: Record<string, unknown>, short: string, long: string, field: string, step?: string): unknown {
  if (obj[short] !== undefined && obj[long] !== undefined) throw formatError(`${field}.${short}`, `give either ${short} or ${long}, not both`, step);
  return obj[short] ?? obj[long];
}

function stringList(value: unknown, field: string, step?: string): string[] {
  if (typeof value === 'string') return shlexSplit(value, field);
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw formatError(field, 'must be a command line or a list of strings', step);
  return value as string[];
}

function ruleList(value: unknown, field: string, owner: { name: string; kind: 'step' | 'inspection' }): RuleInput[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw formatError(field, 'must be a list of rules', owner.name);
  return value.map((r: unknown, i) => {
    if (typeof r === 'string' || (Array.isArray(r) && r.every((t) => typeof t === 'string'))) return r as RuleInput;
    throw formatError(`${field}[${i}]`, 'a rule is a string ("CREATE foo") or a list of tokens (["CREATE", "foo"])', owner.name);
  });
}

/**
 * Builds the layout a description describes. Functionaries are named by the description's key names (or by
 * key ids); key files are read through `resolveKey`. Errors are `InTotoError` (FORMAT, KEY) naming the field,
 * e.g. `steps[1].functionaries[0]: no key named 'bobb' (keys: bob, carol)`.
 */
export async function layoutFromDescription(description: unknown, options: DescriptionOptions = {}): Promise<DescribedLayout> {
  if (!isPlainObject(description)) throw formatError('description', 'must be an object (readme, expires, keys, steps, inspect)');
  const d = description;
  checkFields(d, DESCRIPTION_FIELDS, '');
  if (d._type !== undefined && d._type !== 'layout') throw formatError('_type', 'must be "layout"');
  const builder = new LayoutBuilder(options.now ? { now: options.now } : {});

  if (d.readme !== undefined) {
    if (typeof d.readme !== 'string') throw formatError('readme', 'must be a string');
    builder.readme(d.readme);
  }
  if (d.expires !== undefined && d.expires_in !== undefined) throw formatError('expires', 'give either expires or expires_in, not both');
  if (d.expires !== undefined) builder.expires(d.expires instanceof Date ? d.expires : readExpires(d.expires as string, 'expires'));
  if (d.expires_in !== undefined) {
    if (typeof d.expires_in === 'string') builder.expiresIn(parsePeriod(d.expires_in, 'expires_in'));
    else if (isPlainObject(d.expires_in)) builder.expiresIn(d.expires_in as Period);
    else throw formatError('expires_in', 'must be a period like 3m, or { months: 3 }');
  }

  // Keys: name -> PublicKey. A name is how steps refer to a key; ids work too.
  const byName = new Map<string, VerificationKey>();
  const keyNames = new Map<string, string>();
  if (d.keys !== undefined) {
    if (!isPlainObject(d.keys)) throw formatError('keys', 'must map key names to key files or keys');
    for (const [name, ref] of Object.entries(d.keys)) {
      const field = `keys.${name}`;
      const key = await resolveKeyReference(ref, name, field, options);
      byName.set(name, key);
      keyNames.set(key.keyid, name);
      builder.addKey(key);
    }
  }
  const knownIds = (): string => [...byName.keys()].join(', ') || 'none';

  for (const [field, list] of [['steps', d.steps], ['inspect', d.inspect]] as const) {
    if (list !== undefined && !Array.isArray(list)) throw formatError(field, `must be a list of ${field === 'steps' ? 'steps' : 'inspections'}`);
  }
  ((d.steps ?? []) as unknown[]).forEach((value, i) => {
    const field = `steps[${i}]`;
    if (!isPlainObject(value)) throw formatError(field, 'must be an object with at least a name');
    if (typeof value.name !== 'string') throw formatError(`${field}.name`, 'must be a string');
    const name = value.name;
    checkFields(value, STEP_DESCRIPTION_FIELDS, field, name);
    if (value._type !== undefined && value._type !== 'step') throw formatError(`${field}._type`, 'must be "step"', name);
    const owner = { name, kind: 'step' as const };
    builder.step(name, (s) => {
      const functionaries = alias(value, 'functionaries', 'pubkeys', field, name);
      if (functionaries !== undefined) {
        if (!Array.isArray(functionaries)) throw formatError(`${field}.functionaries`, 'must be a list of key names or key ids', name);
        functionaries.forEach((ref: unknown, k) => {
          if (typeof ref !== 'string') throw formatError(`${field}.functionaries[${k}]`, 'must be a key name or a key id', name);
          const key = byName.get(ref);
          if (key) s.functionaries(key);
          else if (/^[0-9a-fA-F]{8,}$/.test(ref)) s.functionaries(ref);
          else throw formatError(`${field}.functionaries[${k}]`, `no key named '${ref}' (keys: ${knownIds()})`, name);
        });
      }
      if (value.threshold !== undefined) {
        if (typeof value.threshold !== 'number' || !Number.isSafeInteger(value.threshold) || value.threshold < 1) {
          throw formatError(`${field}.threshold`, 'must be a positive integer', name);
        }
        s.threshold(value.threshold);
      }
      const command = alias(value, 'command', 'expected_command', field, name);
      if (command !== undefined) s.command(...(typeof command === 'string' ? [command] : stringList(command, `${field}.command`, name)));
      s.setMaterials(ruleList(alias(value, 'materials', 'expected_materials', field, name), `${field}.materials`, owner));
      s.setProducts(ruleList(alias(value, 'products', 'expected_products', field, name), `${field}.products`, owner));
    });
  });
  ((d.inspect ?? []) as unknown[]).forEach((value, i) => {
    const field = `inspect[${i}]`;
    if (!isPlainObject(value)) throw formatError(field, 'must be an object with at least a name and run');
    if (typeof value.name !== 'string') throw formatError(`${field}.name`, 'must be a string');
    const name = value.name;
    checkFields(value, INSPECTION_DESCRIPTION_FIELDS, field, name);
    if (value._type !== undefined && value._type !== 'inspection') throw formatError(`${field}._type`, 'must be "inspection"', name);
    const owner = { name, kind: 'inspection' as const };
    builder.inspection(name, (ins) => {
      if (value.run !== undefined) ins.run(...(typeof value.run === 'string' ? [value.run] : stringList(value.run, `${field}.run`, name)));
      ins.setMaterials(ruleList(alias(value, 'materials', 'expected_materials', field, name), `${field}.materials`, owner));
      ins.setProducts(ruleList(alias(value, 'products', 'expected_products', field, name), `${field}.products`, owner));
    });
  });
  return { layout: builder.build(), keyNames };
}

async function resolveKeyReference(ref: unknown, name: string, field: string, options: DescriptionOptions): Promise<VerificationKey> {
  const wrap = async (load: () => VerificationKey | Promise<VerificationKey>): Promise<VerificationKey> => {
    try {
      return await load();
    } catch (error) {
      if (error instanceof InTotoError) throw new InTotoError(error.code, `${field}: ${error.message}`, { ...error, field }, { cause: error });
      throw new InTotoError('KEY', `${field}: ${(error as Error).message}`, { field }, { cause: error });
    }
  };
  if (typeof ref === 'string') {
    // A PEM or JSON key written inline, or else a file name.
    if (ref.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) return wrap(() => gpgKeyFromExport(ref));
    if (ref.includes('-----BEGIN ') || ref.trimStart().startsWith('{')) return wrap(() => loadPublicKey(ref));
    return wrap(() => resolveFile({ path: ref }, name, field, options));
  }
  if (isPlainObject(ref)) {
    if ('spki' in ref && 'keyid' in ref) return ref as unknown as PublicKey;
    if (isGpgKey(ref)) return ref;
    if (isGpgKeyDict(ref)) return wrap(() => gpgKeyFromDict(ref, field));
    if (typeof ref.path === 'string') {
      for (const k of Object.keys(ref)) if (k !== 'path' && k !== 'type') throw formatError(`${field}.${k}`, 'unknown field (known: path, type)');
      if (ref.type !== undefined && ref.type !== 'ed25519' && ref.type !== 'rsa' && ref.type !== 'ecdsa') {
        throw formatError(`${field}.type`, 'must be ed25519, rsa or ecdsa');
      }
      const fileRef = { path: ref.path, ...(ref.type === undefined ? {} : { type: ref.type as KeyType }) };
      return wrap(() => resolveFile(fileRef, name, field, options));
    }
    return wrap(() => publicKeyFromDict(ref));
  }
  throw formatError(field, 'must be a key file name, { path, type }, or a public key');
}

function resolveFile(ref: { path: string; type?: KeyType }, name: string, field: string, options: DescriptionOptions): VerificationKey | Promise<VerificationKey> {
  if (!options.resolveKey) throw formatError(field, `names the key file ${ref.path}, but no resolveKey was given to read it`);
  return options.resolveKey(ref, name);
}
