/**
 * The metadata wing (`bindings/metadata/`) owns in-toto's documents: the layout and link models (this file), the
 * rule grammar (`rules.ts`), the two envelopes documents travel in, Metablock and DSSE, with their signing and
 * signature checks (`envelope.ts`), and the reference's JSON writer (`reference-json.ts`). It sits above keys
 * (envelopes are signed and verified with keys) and below everything that acts on documents: verify, record,
 * layout.
 * Wing order, lowest first: root (engine, errors, encoding, bigint) < keys < metadata < verify < record, layout
 * < cli, index < entry; test/architecture.test.ts holds the tree to it.
 */
/**
 * Typed, validated models of in-toto metadata (the `signed` part of a layout or link), as Debian's in-toto 1.3.1
 * reads and writes it (`in_toto/models/layout.py`, `link.py`; schemas from `securesystemslib/formats.py`).
 *
 * Validation is at least as strict as the reference's. Python 1.3.1 rebuilds `signed` from its model before it
 * checks a signature: it fills in missing fields (`expires` becomes now + 1 month), rewrites every step's and
 * inspection's `_type` and drops unknown fields, so a document it changes that way can only fail its signature
 * there. We check signatures over the document as received, so we refuse missing fields and wrong `_type`s
 * outright, and keep unknown fields (in `extra`, listed by `listUnknownFields`) for the verifier to refuse or
 * enforce; writing (`layoutToJSON`, `linkToJSON`) drops them, as the reference does.
 *
 * Also refused, although the reference reads them without complaint: a `threshold` below 1 or not a number
 * (python accepts 0, -1 and `true`, which void its threshold checks), names and command or `run`
 * entries that are not strings, a key whose own `keyid` differs from the id it is listed under (python finds
 * link files by one and signatures by the other), and strings that match the reference's regular expressions
 * only through python's `$` (a trailing newline) or `\d` (non-ASCII digits).
 *
 * Deliberately not refused, as in the reference: a step `pubkeys` entry with no key in `keys` (it authorizes
 * nobody; it may also name an OpenPGP subkey of a listed key), duplicate `pubkeys`, a `threshold` above the
 * number of `pubkeys`, keys without a `keyid` field (in-toto-rs writes them), upper-case hex, empty names and
 * empty digest sets.
 */
import { InTotoError } from '../errors.js';
import { parseRule, type ArtifactRule } from './rules.js';

/** A value as JSON.parse gives it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Hash algorithm name -> hex digest, exactly as recorded (the reference compares these dicts whole). */
export type DigestSet = Readonly<Record<string, string>>;
/** Artifact path -> digests. A Map, because paths are untrusted strings (`__proto__` is a valid file name). */
export type Artifacts = ReadonlyMap<string, DigestSet>;

export interface Step {
  readonly type: 'step';
  readonly name: string;
  readonly expectedMaterials: readonly ArtifactRule[];
  readonly expectedProducts: readonly ArtifactRule[];
  /** Key ids authorized to sign this step's links (lower or upper-case hex, as written). */
  readonly pubkeys: readonly string[];
  readonly expectedCommand: readonly string[];
  /** How many distinct authorized keys must have signed a link for the step: a positive integer. */
  readonly threshold: number;
  /** Fields in-toto 1.3.1 does not know (e.g. in-toto-golang's `cert_constraints`), kept as written. */
  readonly extra: JsonObject;
}

export interface Inspection {
  readonly type: 'inspection';
  readonly name: string;
  readonly expectedMaterials: readonly ArtifactRule[];
  readonly expectedProducts: readonly ArtifactRule[];
  /** The command the verifier runs. */
  readonly run: readonly string[];
  readonly extra: JsonObject;
}

export interface Layout {
  readonly type: 'layout';
  readonly steps: readonly Step[];
  readonly inspect: readonly Inspection[];
  /**
   * Functionary public keys by key id, as plain objects (`bindings/keys/keys.ts` reads them). Checked here only for
   * the shape the reference's `ANY_PUBKEY_DICT_SCHEMA` requires.
   */
  readonly keys: Readonly<Record<string, JsonObject>>;
  /** `YYYY-MM-DDTHH:MM:SSZ`, a real UTC date and time. */
  readonly expires: string;
  readonly readme: string;
  /** e.g. in-toto-golang's `rootcas` and `intermediatecas`. */
  readonly extra: JsonObject;
}

export interface Link {
  readonly type: 'link';
  readonly name: string;
  readonly materials: Artifacts;
  readonly products: Artifacts;
  /** Opaque; in-toto-run writes `stdout`, `stderr` and `return-value` when it ran a command, `{}` otherwise. */
  readonly byproducts: JsonObject;
  readonly command: readonly string[];
  /** Opaque; in-toto 1.3.1's tools always write `{}`. */
  readonly environment: JsonObject;
  readonly extra: JsonObject;
}

/** The plain objects the reference writes (`attr.asdict` of its models). */
export interface StepJSON {
  _type: 'step';
  expected_command: string[];
  expected_materials: string[][];
  expected_products: string[][];
  name: string;
  pubkeys: string[];
  threshold: number;
}

export interface InspectionJSON {
  _type: 'inspection';
  expected_materials: string[][];
  expected_products: string[][];
  name: string;
  run: string[];
}

export interface LayoutJSON {
  _type: 'layout';
  expires: string;
  inspect: InspectionJSON[];
  keys: Record<string, JsonObject>;
  readme: string;
  steps: StepJSON[];
}

export interface LinkJSON {
  _type: 'link';
  byproducts: JsonObject;
  command: string[];
  environment: JsonObject;
  materials: Record<string, Record<string, string>>;
  name: string;
  products: Record<string, Record<string, string>>;
}

export interface ParseOptions {
  /** Prefix for the `field` of errors, e.g. `signed` to get `signed.steps[2].threshold`. Default: none. */
  readonly root?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Field paths and errors

const child = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);
const index = (path: string, i: number): string => `${path}[${i}]`;
/** Keys chosen by the document's author (paths, key ids, algorithms) are quoted, so dots in them stay readable. */
const entry = (path: string, key: string): string => `${path}[${JSON.stringify(key)}]`;

interface Owner {
  readonly kind: 'step' | 'inspection';
  readonly name: string;
}

function fail(field: string, problem: string, owner?: Owner): never {
  const where = owner === undefined ? '' : ` (${owner.kind} '${owner.name}')`;
  throw new InTotoError('FORMAT', `${field || 'metadata'}${where}: ${problem}`, {
    field,
    ...(owner === undefined ? {} : { step: owner.name }),
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading JSON values

type RawObject = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is RawObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A record without a prototype, so that no key (`constructor`, `__proto__`) reads anything it was not given. */
function record<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const [key, value] of entries) out[key] = value;
  return out;
}

function expectObject(value: unknown, field: string, what: string, owner?: Owner): RawObject {
  if (!isObject(value)) fail(field, `must be ${what}, got ${describe(value)}`, owner);
  return value;
}

function required(obj: RawObject, name: string, path: string, owner?: Owner): unknown {
  if (!Object.hasOwn(obj, name)) {
    fail(child(path, name), 'is missing (in-toto 1.3.1 writes this field in every document)', owner);
  }
  return obj[name];
}

function expectType(obj: RawObject, path: string, type: string): void {
  const value = required(obj, '_type', path);
  if (value !== type) fail(child(path, '_type'), `must be "${type}", got ${describe(value)}`);
}

function expectString(value: unknown, field: string, owner?: Owner): string {
  if (typeof value !== 'string') fail(field, `must be a string, got ${describe(value)}`, owner);
  return value;
}

function expectStringList(value: unknown, field: string, owner?: Owner): string[] {
  if (!Array.isArray(value)) fail(field, `must be an array of strings, got ${describe(value)}`, owner);
  return value.map((item: unknown, i) => expectString(item, index(field, i), owner));
}

/** securesystemslib `HEX_SCHEMA` (`[a-fA-F0-9]+`), without python's tolerance of a trailing newline. */
const HEX = /^[a-fA-F0-9]+$/;

function expectHex(value: unknown, field: string, what: string, owner?: Owner): string {
  if (typeof value !== 'string' || !HEX.test(value)) fail(field, `must be ${what} (hex digits), got ${describe(value)}`, owner);
  return value;
}

/** securesystemslib `Integer`: a real integer (not a boolean) within a range. */
function expectInteger(value: unknown, field: string, lo: number, hi: number, owner?: Owner): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < lo || value > hi) {
    fail(field, `must be an integer from ${lo} to ${hi}, got ${describe(value)}`, owner);
  }
  return value;
}

function extraFields(obj: RawObject, known: ReadonlySet<string>): JsonObject {
  return record(Object.entries(obj).filter(([key]) => !known.has(key))) as JsonObject;
}

// ---------------------------------------------------------------------------------------------------------
// Dates

/** securesystemslib `ISO8601_DATETIME_SCHEMA`, with ASCII digits only. */
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Proleptic Gregorian calendar, as python's `datetime`. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `Layout._validate_expires` checks the pattern and then that `dateutil.parser.parse` accepts the date, which
 * refuses what is not a real date: year 0, month 13, Feb 30 (and Feb 29 outside leap years), hour 24, second 60.
 */
function isIso8601(value: string): boolean {
  const m = ISO8601.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return (
    year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
    hour <= 23 && minute <= 59 && second <= 59
  );
}

function expectDate(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isIso8601(value)) {
    fail(field, `must be a UTC date and time written YYYY-MM-DDTHH:MM:SSZ, got ${describe(value)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Layout

const LAYOUT_FIELDS = new Set(['_type', 'steps', 'inspect', 'keys', 'expires', 'readme']);
const STEP_FIELDS = new Set(['_type', 'name', 'expected_materials', 'expected_products', 'pubkeys', 'expected_command', 'threshold']);
const INSPECTION_FIELDS = new Set(['_type', 'name', 'expected_materials', 'expected_products', 'run']);
const LINK_FIELDS = new Set(['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment']);

/**
 * Reads the `signed` part of a layout. Everything `Layout.validate()` checks is checked (see the file comment
 * for where we are stricter), every rule is parsed, and step and inspection names must all differ.
 */
export function parseLayout(signed: unknown, options: ParseOptions = {}): Layout {
  const root = options.root ?? '';
  const obj = expectObject(signed, root, 'a JSON object (the signed part of a layout)');
  expectType(obj, root, 'layout');

  const stepsValue = required(obj, 'steps', root);
  if (!Array.isArray(stepsValue)) fail(child(root, 'steps'), `must be an array of steps, got ${describe(stepsValue)}`);
  const inspectValue = required(obj, 'inspect', root);
  if (!Array.isArray(inspectValue)) fail(child(root, 'inspect'), `must be an array of inspections, got ${describe(inspectValue)}`);

  // One namespace for steps and inspections: links are looked up by these names (Layout._validate_steps_and_inspections).
  const named = new Map<string, string>();
  const claimName = (name: string, field: string, owner: Owner) => {
    const holder = named.get(name);
    if (holder !== undefined) fail(field, `the name '${name}' is already used by ${holder}; step and inspection names must be unique`, owner);
    named.set(name, field.slice(0, field.lastIndexOf('.')));
  };
  const steps = stepsValue.map((value: unknown, i) => {
    const step = parseStep(value, index(child(root, 'steps'), i));
    claimName(step.name, child(index(child(root, 'steps'), i), 'name'), { kind: 'step', name: step.name });
    return step;
  });
  const inspect = inspectValue.map((value: unknown, i) => {
    const inspection = parseInspection(value, index(child(root, 'inspect'), i));
    claimName(inspection.name, child(index(child(root, 'inspect'), i), 'name'), { kind: 'inspection', name: inspection.name });
    return inspection;
  });

  return {
    type: 'layout',
    steps,
    inspect,
    keys: parseKeys(required(obj, 'keys', root), child(root, 'keys')),
    expires: expectDate(required(obj, 'expires', root), child(root, 'expires')),
    readme: expectString(required(obj, 'readme', root), child(root, 'readme')),
    extra: extraFields(obj, LAYOUT_FIELDS),
  };
}

function parseStep(value: unknown, path: string): Step {
  const obj = expectObject(value, path, 'a step object');
  expectType(obj, path, 'step');
  const name = expectString(required(obj, 'name', path), child(path, 'name'));
  const owner: Owner = { kind: 'step', name };
  const pubkeysField = child(path, 'pubkeys');
  const pubkeys = required(obj, 'pubkeys', path, owner);
  if (!Array.isArray(pubkeys)) fail(pubkeysField, `must be an array of key ids, got ${describe(pubkeys)}`, owner);
  return {
    type: 'step',
    name,
    expectedMaterials: parseRules(obj, 'expected_materials', path, owner),
    expectedProducts: parseRules(obj, 'expected_products', path, owner),
    pubkeys: pubkeys.map((keyid: unknown, i) => expectHex(keyid, index(pubkeysField, i), 'a key id', owner)),
    expectedCommand: expectStringList(required(obj, 'expected_command', path, owner), child(path, 'expected_command'), owner),
    threshold: expectInteger(required(obj, 'threshold', path, owner), child(path, 'threshold'), 1, Number.MAX_SAFE_INTEGER, owner),
    extra: extraFields(obj, STEP_FIELDS),
  };
}

function parseInspection(value: unknown, path: string): Inspection {
  const obj = expectObject(value, path, 'an inspection object');
  expectType(obj, path, 'inspection');
  const name = expectString(required(obj, 'name', path), child(path, 'name'));
  const owner: Owner = { kind: 'inspection', name };
  return {
    type: 'inspection',
    name,
    expectedMaterials: parseRules(obj, 'expected_materials', path, owner),
    expectedProducts: parseRules(obj, 'expected_products', path, owner),
    run: expectStringList(required(obj, 'run', path, owner), child(path, 'run'), owner),
    extra: extraFields(obj, INSPECTION_FIELDS),
  };
}

function parseRules(obj: RawObject, side: 'expected_materials' | 'expected_products', path: string, owner: Owner): ArtifactRule[] {
  const field = child(path, side);
  const rules = required(obj, side, path, owner);
  if (!Array.isArray(rules)) fail(field, `must be an array of rules (each an array of strings), got ${describe(rules)}`, owner);
  return rules.map((rule: unknown, i) => parseRule(rule, { field: index(field, i), step: owner.name, kind: owner.kind }));
}

// ---------------------------------------------------------------------------------------------------------
// Keys: the shape of securesystemslib's ANY_PUBKEY_DICT_SCHEMA, nothing more (bindings/keys/keys.ts reads keys)

const KEYID_HASH_ALGORITHMS = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'blake2s', 'blake2b', 'blake2b-256']);

function parseKeys(value: unknown, field: string): Record<string, JsonObject> {
  const keys = expectObject(value, field, 'an object mapping key ids to public keys');
  return record(
    Object.entries(keys).map(([keyid, key]) => {
      const keyField = entry(field, keyid);
      expectHex(keyid, keyField, 'listed under a key id');
      const obj = expectObject(key, keyField, 'a public key object');
      // The reference does not compare the two, but uses the map key to find link files and the key's own
      // `keyid` to find signatures; a layout where they differ means two things at once, so refuse it.
      if (Object.hasOwn(obj, 'keyid') && obj.keyid !== keyid) {
        fail(child(keyField, 'keyid'), `must equal the key id the key is listed under, got ${describe(obj.keyid)}`);
      }
      checkPublicKeyShape(obj, keyField);
      return [keyid, obj as JsonObject] as const;
    }),
  );
}

/**
 * `ANY_PUBKEY_SCHEMA` is OneOf(PUBLIC_KEY_SCHEMA, GPG_PUBKEY_SCHEMA): accept what either accepts; when both
 * refuse, report against the one the key looks like (`keytype` means a securesystemslib key).
 */
function checkPublicKeyShape(key: RawObject, field: string): void {
  let sslibError: unknown;
  try {
    checkSslibPublicKey(key, field);
    return;
  } catch (error) {
    sslibError = error;
  }
  try {
    checkGpgPublicKey(key, field, undefined);
  } catch (gpgError) {
    throw Object.hasOwn(key, 'keytype') || !Object.hasOwn(key, 'type') ? sslibError : gpgError;
  }
}

/** securesystemslib `PUBLIC_KEY_SCHEMA`; other fields (`scheme`, `keyid`) are not part of it. */
function checkSslibPublicKey(key: RawObject, field: string): void {
  expectString(required(key, 'keytype', field), child(field, 'keytype'));
  if (Object.hasOwn(key, 'keyid_hash_algorithms')) {
    const algorithms = key.keyid_hash_algorithms;
    if (!Array.isArray(algorithms)) fail(child(field, 'keyid_hash_algorithms'), `must be an array, got ${describe(algorithms)}`);
    algorithms.forEach((name: unknown, i) => {
      if (typeof name !== 'string' || !KEYID_HASH_ALGORITHMS.has(name)) {
        fail(index(child(field, 'keyid_hash_algorithms'), i), `must be one of ${[...KEYID_HASH_ALGORITHMS].join(', ')}, got ${describe(name)}`);
      }
    });
  }
  const keyval = expectObject(required(key, 'keyval', field), child(field, 'keyval'), 'an object');
  expectString(required(keyval, 'public', child(field, 'keyval')), child(field, 'keyval.public'));
  if (Object.hasOwn(keyval, 'private') && keyval.private !== '') {
    fail(child(field, 'keyval.private'), 'must be empty: a layout lists public keys only');
  }
  if (Object.hasOwn(key, 'expires') && (typeof key.expires !== 'string' || !ISO8601.test(key.expires))) {
    fail(child(field, 'expires'), `must be written YYYY-MM-DDTHH:MM:SSZ, got ${describe(key.expires)}`);
  }
}

/** securesystemslib `GPG_{RSA,DSA,ED25519}_PUBKEY_SCHEMA`, whose `subkeys` are keys of the same schema. */
const GPG_KEY_TYPES: Readonly<Record<string, { method: string; publicFields: readonly string[] }>> = {
  rsa: { method: 'pgp+rsa-pkcsv1.5', publicFields: ['n'] },
  dsa: { method: 'pgp+dsa-fips-180-2', publicFields: ['y', 'p', 'q', 'g'] },
  eddsa: { method: 'pgp+eddsa-ed25519', publicFields: ['q'] },
};

function checkGpgPublicKey(key: RawObject, field: string, masterType: string | undefined): void {
  const type = required(key, 'type', field);
  if (typeof type !== 'string' || !Object.hasOwn(GPG_KEY_TYPES, type) || (masterType !== undefined && type !== masterType)) {
    fail(child(field, 'type'), `must be ${masterType === undefined ? '"rsa", "dsa" or "eddsa"' : `"${masterType}" like its master key`}, got ${describe(type)}`);
  }
  const spec = GPG_KEY_TYPES[type]!;
  if (required(key, 'method', field) !== spec.method) fail(child(field, 'method'), `must be "${spec.method}" for a ${type} key`);
  const hashes = required(key, 'hashes', field);
  if (!Array.isArray(hashes) || hashes.some((hash: unknown) => hash !== 'pgp+SHA2')) {
    fail(child(field, 'hashes'), 'must be an array of "pgp+SHA2"');
  }
  if (Object.hasOwn(key, 'creation_time')) expectInteger(key.creation_time, child(field, 'creation_time'), 0, 2147483647);
  if (Object.hasOwn(key, 'validity_period')) expectInteger(key.validity_period, child(field, 'validity_period'), 0, 2147483647);
  expectHex(required(key, 'keyid', field), child(field, 'keyid'), 'a key id');
  const keyval = expectObject(required(key, 'keyval', field), child(field, 'keyval'), 'an object');
  const publicField = child(field, 'keyval.public');
  const pub = expectObject(required(keyval, 'public', child(field, 'keyval')), publicField, 'an object');
  if (type === 'rsa') expectString(required(pub, 'e', publicField), child(publicField, 'e'));
  for (const name of spec.publicFields) expectHex(required(pub, name, publicField), child(publicField, name), 'a number');
  if (required(keyval, 'private', child(field, 'keyval')) !== '') fail(child(field, 'keyval.private'), 'must be the empty string');
  if (Object.hasOwn(key, 'subkeys')) {
    const subkeys = expectObject(key.subkeys, child(field, 'subkeys'), 'an object mapping key ids to subkeys');
    for (const [keyid, subkey] of Object.entries(subkeys)) {
      const subField = entry(child(field, 'subkeys'), keyid);
      expectHex(keyid, subField, 'listed under a key id');
      checkGpgPublicKey(expectObject(subkey, subField, 'a subkey object'), subField, type);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Link

/** Reads the `signed` part of a link, as `Link.validate()` does, plus the stricter checks in the file comment. */
export function parseLink(signed: unknown, options: ParseOptions = {}): Link {
  const root = options.root ?? '';
  const obj = expectObject(signed, root, 'a JSON object (the signed part of a link)');
  expectType(obj, root, 'link');
  return {
    type: 'link',
    name: expectString(required(obj, 'name', root), child(root, 'name')),
    materials: parseArtifacts(required(obj, 'materials', root), child(root, 'materials')),
    products: parseArtifacts(required(obj, 'products', root), child(root, 'products')),
    byproducts: expectObject(required(obj, 'byproducts', root), child(root, 'byproducts'), 'an object') as JsonObject,
    command: expectStringList(required(obj, 'command', root), child(root, 'command')),
    environment: expectObject(required(obj, 'environment', root), child(root, 'environment'), 'an object') as JsonObject,
    extra: extraFields(obj, LINK_FIELDS),
  };
}

/** Each artifact is a securesystemslib `HASHDICT_SCHEMA`: algorithm name -> hex digest (possibly no entries). */
function parseArtifacts(value: unknown, field: string): Artifacts {
  const artifacts = expectObject(value, field, 'an object mapping artifact paths to digests');
  const out = new Map<string, DigestSet>();
  for (const [path, digests] of Object.entries(artifacts)) {
    const pathField = entry(field, path);
    const set = expectObject(digests, pathField, 'an object mapping hash algorithms to hex digests');
    out.set(
      path,
      record(Object.entries(set).map(([algorithm, hex]) => [algorithm, expectHex(hex, entry(pathField, algorithm), 'a digest')] as const)),
    );
  }
  return out;
}

/** Dispatches on `_type`, as `Metablock.load` does: "layout" or "link", anything else is refused. */
export function parseSigned(signed: unknown, options: ParseOptions = {}): Layout | Link {
  const root = options.root ?? '';
  const obj = expectObject(signed, root, 'a JSON object (the signed part of in-toto metadata)');
  const type = required(obj, '_type', root);
  if (type === 'layout') return parseLayout(obj, options);
  if (type === 'link') return parseLink(obj, options);
  return fail(child(root, '_type'), `must be "layout" or "link", got ${describe(type)}`);
}

/** Dotted paths of the fields in-toto 1.3.1 does not know (the reference drops them; a verifier must decide). */
export function listUnknownFields(metadata: Layout | Link): string[] {
  const names = (path: string, extra: JsonObject) => Object.keys(extra).map((key) => child(path, key));
  if (metadata.type === 'link') return names('', metadata.extra);
  return [
    ...names('', metadata.extra),
    ...metadata.steps.flatMap((step, i) => names(index('steps', i), step.extra)),
    ...metadata.inspect.flatMap((inspection, i) => names(index('inspect', i), inspection.extra)),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Writing: what the reference writes, i.e. the known fields only (1.3.1 drops unknown ones)

const rulesToJSON = (rules: readonly ArtifactRule[]): string[][] => rules.map((rule) => [...rule.tokens]);

function stepToJSON(step: Step): StepJSON {
  return {
    _type: 'step',
    expected_command: [...step.expectedCommand],
    expected_materials: rulesToJSON(step.expectedMaterials),
    expected_products: rulesToJSON(step.expectedProducts),
    name: step.name,
    pubkeys: [...step.pubkeys],
    threshold: step.threshold,
  };
}

function inspectionToJSON(inspection: Inspection): InspectionJSON {
  return {
    _type: 'inspection',
    expected_materials: rulesToJSON(inspection.expectedMaterials),
    expected_products: rulesToJSON(inspection.expectedProducts),
    name: inspection.name,
    run: [...inspection.run],
  };
}

/** The plain object in-toto 1.3.1 would write for this layout. Key objects are shared with the model, not copied. */
export function layoutToJSON(layout: Layout): LayoutJSON {
  return {
    _type: 'layout',
    expires: layout.expires,
    inspect: layout.inspect.map(inspectionToJSON),
    keys: Object.fromEntries(Object.entries(layout.keys)),
    readme: layout.readme,
    steps: layout.steps.map(stepToJSON),
  };
}

// Object.fromEntries defines own properties, so a path named `__proto__` stays an ordinary key.
const artifactsToJSON = (artifacts: Artifacts): Record<string, Record<string, string>> =>
  Object.fromEntries([...artifacts].map(([path, digests]) => [path, Object.fromEntries(Object.entries(digests))]));

/** The plain object in-toto 1.3.1 would write for this link. `byproducts` and `environment` are shared, not copied. */
export function linkToJSON(link: Link): LinkJSON {
  return {
    _type: 'link',
    byproducts: link.byproducts,
    command: [...link.command],
    environment: link.environment,
    materials: artifactsToJSON(link.materials),
    name: link.name,
    products: artifactsToJSON(link.products),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Creating metadata with the reference's defaults (python `Layout()`, `Step()`, `Inspection()`, `Link()`)

export type StepFields = Partial<Omit<StepJSON, '_type'>> & { name: string };
export type InspectionFields = Partial<Omit<InspectionJSON, '_type'>> & { name: string };
export interface LayoutFields {
  steps?: readonly StepFields[];
  inspect?: readonly InspectionFields[];
  keys?: Readonly<Record<string, JsonObject>>;
  /** Default: one month after `now`, as `Layout.set_relative_expiration(months=1)`. */
  expires?: string;
  readme?: string;
}
export type LinkFields = Partial<Omit<LinkJSON, '_type'>> & { name: string };

/**
 * A new layout with python `Layout(**fields)`'s defaults: no steps, inspections or keys, an empty readme and
 * an expiry one month from `now` (an empty `expires` also gets the default, as in python). The reference
 * computes that date from local time and labels it `Z`; we use UTC, which is what the label says.
 */
export function createLayout(fields: LayoutFields = {}, now: Date = new Date()): Layout {
  return parseLayout({
    _type: 'layout',
    steps: (fields.steps ?? []).map((step) => ({
      _type: 'step',
      expected_command: [],
      expected_materials: [],
      expected_products: [],
      pubkeys: [],
      threshold: 1,
      ...step,
    })),
    inspect: (fields.inspect ?? []).map((inspection) => ({
      _type: 'inspection',
      expected_materials: [],
      expected_products: [],
      run: [],
      ...inspection,
    })),
    keys: fields.keys ?? {},
    expires: fields.expires || oneMonthAfter(now),
    readme: fields.readme ?? '',
  });
}

/** A new link with python `Link(**fields)`'s defaults: no artifacts, an empty command, `{}` byproducts and environment. */
export function createLink(fields: LinkFields): Link {
  return parseLink({ _type: 'link', materials: {}, products: {}, byproducts: {}, command: [], environment: {}, ...fields });
}

/** dateutil `relativedelta(months=1)`: the same day next month, or that month's last day if it is shorter. */
function oneMonthAfter(now: Date): string {
  const next = now.getUTCMonth() + 1;
  const year = now.getUTCFullYear() + Math.floor(next / 12);
  const month = (next % 12) + 1;
  const day = Math.min(now.getUTCDate(), daysInMonth(year, month));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}Z`;
}

// ---------------------------------------------------------------------------------------------------------
// Parameter substitution (verifylib.py `substitute_parameters`)

/** in_toto.formats `PARAMETER_DICTIONARY_KEY`, without python's tolerance of a trailing newline. */
const PARAMETER_NAME = /^[a-zA-Z0-9_-]+$/;

/**
 * Returns a copy of the layout with parameters substituted the way in-toto 1.3.1 does it: every token of every
 * rule, every `expected_command` entry and every inspection `run` entry goes through python's
 * `str.format(**parameters)`. So `{NAME}` is replaced, `{{` and `}}` stand for single braces, and a field
 * naming a parameter that was not given is an error (python: `KeyError`), as are unbalanced braces and
 * positional fields (`{}`, `{0}`). The reference substitutes whenever parameters are passed at all, even `{}`,
 * so call this only when the caller gave parameters: without them, `{{` stays `{{`.
 *
 * `str.format` also allows `{NAME!s}`, `{NAME[0]}` (one character) and a format spec (`{NAME:>8}`, nested
 * `{NAME:{WIDTH}}`): those give python's result. Refused as not supported, although python gives a result:
 * `!r` and `!a` (python's repr), attribute access (`{NAME.upper}`), non-ASCII digits in an index or width, and
 * widths over 65536. Errors are `InTotoError` (`FORMAT`) naming the token, e.g. `steps[0].expected_command[2]`.
 * Rules are parsed again after substitution (keyword positions cannot change: keywords hold no braces).
 */
export function substituteParameters(layout: Layout, parameters: Readonly<Record<string, string>>): Layout {
  if (!isObject(parameters)) fail('parameters', `must be an object mapping names to strings, got ${describe(parameters)}`);
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parameters)) {
    const field = entry('parameters', name);
    if (!PARAMETER_NAME.test(name)) fail(field, 'parameter names are made of letters, digits, "_" and "-"');
    values.set(name, expectString(value, field));
  }

  const substitute = (token: string, field: string, owner: Owner): string => {
    try {
      return formatLikePython(token, values, FORMAT_RECURSION_DEPTH);
    } catch (error) {
      if (!(error instanceof FormatFailure)) throw error;
      return fail(field, `cannot substitute parameters in ${JSON.stringify(token)}: ${error.message}`, owner);
    }
  };
  const substituteRules = (rules: readonly ArtifactRule[], path: string, owner: Owner): ArtifactRule[] =>
    rules.map((rule, r) =>
      parseRule(
        rule.tokens.map((token, t) => substitute(token, index(index(path, r), t), owner)),
        { field: index(path, r), step: owner.name, kind: owner.kind },
      ),
    );

  return {
    ...layout,
    steps: layout.steps.map((step, i) => {
      const owner: Owner = { kind: 'step', name: step.name };
      const path = index('steps', i);
      return {
        ...step,
        expectedMaterials: substituteRules(step.expectedMaterials, child(path, 'expected_materials'), owner),
        expectedProducts: substituteRules(step.expectedProducts, child(path, 'expected_products'), owner),
        expectedCommand: step.expectedCommand.map((arg, k) => substitute(arg, index(child(path, 'expected_command'), k), owner)),
      };
    }),
    inspect: layout.inspect.map((inspection, i) => {
      const owner: Owner = { kind: 'inspection', name: inspection.name };
      const path = index('inspect', i);
      return {
        ...inspection,
        expectedMaterials: substituteRules(inspection.expectedMaterials, child(path, 'expected_materials'), owner),
        expectedProducts: substituteRules(inspection.expectedProducts, child(path, 'expected_products'), owner),
        run: inspection.run.map((arg, k) => substitute(arg, index(child(path, 'run'), k), owner)),
      };
    }),
  };
}

/** Why `str.format` fails (or what we do not reproduce); turned into an InTotoError naming the token. */
class FormatFailure extends Error {}
const unsupported = (what: string) => new FormatFailure(`${what} is not supported (in-toto 1.3.1 would accept it)`);

/** PEP 3101: a format spec may contain fields, but theirs may not ("Max string recursion exceeded"). */
const FORMAT_RECURSION_DEPTH = 2;
/** Larger widths would make python build strings of any size; we refuse them instead. */
const MAX_WIDTH = 65536;
/** Py_ssize_t's maximum: python's `get_integer` refuses longer numbers ("Too many decimal digits"). */
const PY_SSIZE_T_MAX = 2n ** 63n - 1n;
const NON_ASCII_DIGIT = /(?![0-9])\p{Nd}/u;

interface FormatField {
  readonly name: string;
  readonly conversion?: string;
  readonly spec: string;
  readonly specHasFields: boolean;
  /** Index just past the field's closing brace. */
  readonly end: number;
}

/**
 * python's `str.format(**parameters)` for string parameters, following CPython's
 * `Objects/stringlib/unicode_format.h` (MarkupIterator, parse_field, get_field_object) and
 * `Python/formatter_unicode.c` (string format specs).
 */
function formatLikePython(template: string, parameters: ReadonlyMap<string, string>, depth: number): string {
  if (depth <= 0) throw new FormatFailure('fields nest too deeply in a format spec');
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '{' && c !== '}') {
      out += c;
      i += 1;
    } else if (template[i + 1] === c) {
      out += c;
      i += 2;
    } else if (c === '}') {
      throw new FormatFailure("a single '}' (write '}}' for a brace)");
    } else if (i + 1 === template.length) {
      throw new FormatFailure("a single '{' (write '{{' for a brace)");
    } else {
      const field = scanField(template, i + 1);
      out += renderField(field, parameters, depth);
      i = field.end;
    }
  }
  return out;
}

/** `parse_field`: the field name runs to `}`, `:` or `!` (a `[...]` index may hold those); then `!c`, then `:spec`. */
function scanField(s: string, start: number): FormatField {
  let j = start;
  let c = '';
  while (j < s.length) {
    c = s[j++]!;
    if (c === '{') throw new FormatFailure("'{' inside a field name");
    if (c === '[') {
      while (j < s.length && s[j] !== ']') j += 1;
      continue;
    }
    if (c === '}' || c === ':' || c === '!') break;
  }
  // Without a terminator, `c` is the last character read (or nothing): the field runs off the end.
  if (c !== '}' && c !== ':' && c !== '!') throw new FormatFailure("a field is not closed with '}'");
  const name = s.slice(start, j - 1);
  if (c === '}') return { name, spec: '', specHasFields: false, end: j };

  let conversion: string | undefined;
  if (c === '!') {
    if (j >= s.length) throw new FormatFailure("'!' at the end of a field, without a conversion");
    conversion = String.fromCodePoint(s.codePointAt(j)!);
    j += conversion.length;
    if (j < s.length) {
      const next = s[j++];
      if (next === '}') return { name, conversion, spec: '', specHasFields: false, end: j };
      if (next !== ':') throw new FormatFailure("a conversion ('!s') must be followed by ':' or '}'");
    }
  }
  const specStart = j;
  let depth = 1;
  let specHasFields = false;
  while (j < s.length) {
    const ch = s[j++];
    if (ch === '{') {
      specHasFields = true;
      depth += 1;
    } else if (ch === '}' && --depth === 0) {
      return { name, ...(conversion === undefined ? {} : { conversion }), spec: s.slice(specStart, j - 1), specHasFields, end: j };
    }
  }
  throw new FormatFailure("a field's format spec is not closed with '}'");
}

function renderField(field: FormatField, parameters: ReadonlyMap<string, string>, depth: number): string {
  const value = resolveFieldName(field.name, parameters);
  if (field.conversion === 'r' || field.conversion === 'a') throw unsupported(`the conversion '!${field.conversion}'`);
  if (field.conversion !== undefined && field.conversion !== 's') {
    throw new FormatFailure(`unknown conversion '!${field.conversion}' (python knows !s, !r and !a)`);
  }
  const spec = field.specHasFields ? formatLikePython(field.spec, parameters, depth - 1) : field.spec;
  return formatString(value, spec);
}

/** `get_field_object`: `NAME` then any number of `[index]` (and `.attribute`, which we do not support). */
function resolveFieldName(name: string, parameters: ReadonlyMap<string, string>): string {
  const firstEnd = name.search(/[.[]/);
  const first = firstEnd === -1 ? name : name.slice(0, firstEnd);
  // An empty or all-digit name is positional in python; format(**parameters) has no positional arguments.
  if (first === '' || /^\p{Nd}+$/u.test(first)) {
    throw new FormatFailure(`positional field '{${name}}': fields must name a parameter, like {NAME}`);
  }
  const given = parameters.get(first);
  if (given === undefined) throw new FormatFailure(`no parameter '${first}' was given`);
  let value = given;

  let k = first.length;
  while (k < name.length) {
    const c = name[k++];
    if (c === '.') {
      const end = name.slice(k).search(/[.[]/);
      const attribute = end === -1 ? name.slice(k) : name.slice(k, k + end);
      if (attribute === '') throw new FormatFailure("an empty attribute after '.' in a field");
      throw unsupported(`attribute access ('.${attribute}')`);
    }
    if (c !== '[') throw new FormatFailure("only '.' or '[' may follow ']' in a field");
    const close = name.indexOf(']', k);
    if (close === -1) throw new FormatFailure("a field's '[' has no ']'");
    const key = name.slice(k, close);
    k = close + 1;
    if (key === '') throw new FormatFailure("an empty index '[]' in a field");
    if (NON_ASCII_DIGIT.test(key) && /^\p{Nd}+$/u.test(key)) throw unsupported('an index written with non-ASCII digits');
    if (!/^[0-9]+$/.test(key)) throw new FormatFailure(`a string can only be indexed by a number, not '[${key}]'`);
    const at = BigInt(key);
    if (at > PY_SSIZE_T_MAX) throw new FormatFailure('an index with too many digits');
    const characters = Array.from(value);
    if (at >= BigInt(characters.length)) throw new FormatFailure(`index [${key}] is past the end of the parameter's value`);
    value = characters[Number(at)]!;
  }
  return value;
}

/**
 * `format(value, spec)` for a str: `[[fill]align][0][width][.precision][s]`; python refuses signs, `z`, `#`,
 * `=` alignment, thousands separators and other types for strings. Counts are in code points, as in python.
 */
function formatString(value: string, specText: string): string {
  if (specText === '') return value;
  const spec = Array.from(specText);
  const isAlign = (ch: string | undefined) => ch === '<' || ch === '>' || ch === '^' || ch === '=';
  let i = 0;
  let fill = ' ';
  let align = '<';
  let fillGiven = false;
  if (spec.length >= 2 && isAlign(spec[1])) {
    fill = spec[0]!;
    align = spec[1]!;
    fillGiven = true;
    i = 2;
  } else if (isAlign(spec[0])) {
    align = spec[0]!;
    i = 1;
  }
  const readNumber = (): bigint | undefined => {
    let digits = '';
    while (i < spec.length && /^[0-9]$/.test(spec[i]!)) digits += spec[i++];
    if (i < spec.length && NON_ASCII_DIGIT.test(spec[i]!)) throw unsupported('a width or precision written with non-ASCII digits');
    if (digits === '') return undefined;
    const n = BigInt(digits);
    if (n > PY_SSIZE_T_MAX) throw new FormatFailure('a width or precision with too many digits');
    return n;
  };

  if (['+', '-', ' '].includes(spec[i]!)) throw new FormatFailure('a sign is not allowed in a string format spec');
  if (spec[i] === 'z') throw new FormatFailure("'z' is not allowed in a string format spec");
  if (spec[i] === '#') throw new FormatFailure("'#' is not allowed in a string format spec");
  if (!fillGiven && spec[i] === '0') {
    fill = '0';
    i += 1;
  }
  const width = readNumber();
  if (spec[i] === ',' || spec[i] === '_') throw new FormatFailure('thousands separators are not allowed in a string format spec');
  let precision: bigint | undefined;
  if (spec[i] === '.') {
    i += 1;
    precision = readNumber();
    if (precision === undefined) throw new FormatFailure("a format spec's '.' must be followed by a precision");
  }
  if (spec.length - i > 1) throw new FormatFailure(`invalid format spec '${specText}'`);
  if (spec.length - i === 1 && spec[i] !== 's') throw new FormatFailure(`unknown format type '${spec[i]}' for a string`);
  if (align === '=') throw new FormatFailure("'=' alignment is not allowed in a string format spec");
  if (width !== undefined && width > BigInt(MAX_WIDTH)) throw unsupported(`a width over ${MAX_WIDTH}`);

  let characters = Array.from(value);
  if (precision !== undefined && BigInt(characters.length) > precision) characters = characters.slice(0, Number(precision));
  const padding = Math.max(Number(width ?? 0n) - characters.length, 0);
  const left = align === '>' ? padding : align === '^' ? Math.floor(padding / 2) : 0;
  return fill.repeat(left) + characters.join('') + fill.repeat(padding - left);
}
