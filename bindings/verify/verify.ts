/**
 * The verify wing (`bindings/verify/`) owns deciding whether a supply chain holds: `verify()` (this file), the
 * host of the engine's artifact rules (`rule-engine.ts`), where links come from (`link-source.ts`,
 * `link-list.ts`) and the layout's certificate constraints on functionaries (`cert-constraints.ts`). It builds on
 * metadata and keys and imports nothing above them: inspections run through the `InspectionRunner` interface it
 * defines, which the caller supplies (on Node `nodeInspectionRunner` from record/, passed in by entry/node.ts and
 * the CLI), so verify never imports record.
 * Wing order, lowest first: root (engine, errors, encoding, bigint) < keys < metadata < verify < record, layout
 * < cli, index < entry; test/architecture.test.ts holds the tree to it.
 */
/**
 * Supply chain verification, in the reference's order (in-toto 1.3.1 `verifylib.in_toto_verify`):
 *
 *   1. read the layout (format errors first, before any signature, as the reference loads it)
 *   2. layout signatures: every trusted key must have signed
 *   3. expiry against the caller's clock
 *   4. parameter substitution
 *   5. load each step's links (`<step>.<keyid8>.link`, authorized keys only)
 *   6. link signatures by the step's authorized keys; thresholds over distinct keys
 *   7. sublayouts, recursively, each becoming a summary link
 *   8. command alignment (warnings only)
 *   9. agreement of a step's counted links when its threshold is above 1
 *  10. step artifact rules (the hash chain between steps)
 *  11. inspections: run (or pre-recorded, or explicitly skipped), then their artifact rules
 *
 * Unlike the reference, which stops at the first exception, this collects every failure it can still
 * establish. It stops only where going on would mean reading unauthenticated data: a layout that fails
 * to parse or whose signatures do not hold.
 *
 * Beyond 1.3.1 (see docs in `cert-constraints.ts`, `keys.ts`):
 * - a trusted layout key matches a layout signature under any id it is known by (K1, K2, K3; golang's ECDSA
 *   label); inside a layout, the `keys` map is the authority: a link's signature must carry the map's id;
 * - signatures cover `signed` as received, unknown fields included (golang's layouts verify); of the fields
 *   1.3.1 does not know, in-toto-golang's `rootcas`, `intermediatecas` and `cert_constraints` are enforced
 *   (certificate functionaries), any other is refused, naming it: it may change who may sign or what passes.
 */
import { checkCertificateFunctionary, readLayoutCertificates, type LayoutCertificates } from './cert-constraints.js';
import { envelopeFromDocument, readEnvelope, verifySignatureBy, type Envelope, type VerificationKey } from '../metadata/envelope.js';
import { getEngine, parseJson } from '../engine.js';
import { InTotoError, type ErrorCode } from '../errors.js';
import { fromHex, toHex } from '../encoding.js';
import { computeKeyid, ed25519SpkiFromRaw, keyidCandidates, publicKeyFromDict, publicKeyFromSpkiDer, rsaSpkiFromParts, type PublicKey } from '../keys/keys.js';
import { subLister, toLister, type LinkLister } from './link-list.js';
import { linkFileName, subLoader, sublayoutDirName, toLoader, type LinkLoader, type LinkSource } from './link-source.js';
import {
  linkToJSON, listUnknownFields, parseLayout, parseLink, substituteParameters,
  type Artifacts, type DigestSet, type Inspection, type Layout, type Link, type LinkJSON, type Step,
} from '../metadata/models.js';
import { gpgKeyFromDict, isGpgKey, isGpgKeyDict, type GpgPublicKey } from '../keys/openpgp/key.js';
import { matchGlob, RuleEngine, type LinkHandle, type RuleItem, type RuleTraceEntry } from './rule-engine.js';
import type { ArtifactRule } from '../metadata/rules.js';
import { parseCertificatePem } from '../keys/x509.js';

/** Runs one inspection and returns its link (the `signed` part, or a whole Metablock/DSSE file's bytes). */
export type InspectionRunner = (inspection: Inspection) => Promise<LinkJSON | Uint8Array>;

/**
 * What to do with the layout's inspections:
 * - `{ run }`: run them (on Node, `nodeInspectionRunner()` runs them as processes, as the reference does);
 * - `{ links }`: use pre-recorded inspection links, named `<inspection>.link` (browsers, Workers);
 * - `'skip'`: explicitly do not check them; the verdict then carries an `INSPECTIONS_SKIPPED` warning.
 * Without a policy, a layout with inspections fails verification (nothing is silently skipped).
 */
export type InspectionPolicy = { run: InspectionRunner } | { links: LinkSource } | 'skip';

export interface VerifyOptions {
  /** The layout file's bytes (Metablock or DSSE), or an envelope already read. */
  layout: Uint8Array | string | Envelope;
  /** The project owner's keys: each must have a valid signature on the layout (an OpenPGP key's: or its subkey's). */
  layoutKeys: readonly VerificationKey[];
  /**
   * Where the links are: a map of relative paths to bytes, a loader, or `{ directory }` on Node/Deno. Links of
   * certificate functionaries (in-toto-golang's `cert_constraints`) are found by listing: a map and a directory
   * can be listed, a loader function only if it has a `list(dir)` method.
   */
  links: LinkSource;
  /** The verifier's clock (default: now). */
  now?: Date;
  /** Values for `{NAME}` placeholders in the root layout's rules, expected commands and inspections. */
  parameters?: Readonly<Record<string, string>>;
  inspections?: InspectionPolicy;
  /** How deep sublayouts may nest (default 8). */
  maxSublayoutDepth?: number;
  /** Largest link file read from a directory, in bytes (default: the engine's `maxInputBytes`, 256 MiB). */
  maxLinkBytes?: number;
  /**
   * Link files loaded per verification, sublayouts included (default 10,000): sublayouts that name each other
   * could otherwise make a few files cost steps^depth loads.
   */
  maxLinkFiles?: number;
  /** Most artifacts on one side of one link (default: no limit beyond `maxLinkBytes`). */
  maxArtifacts?: number;
  /** Return the trace of which rule consumed which artifacts (default true; on large chains it costs time). */
  trace?: boolean;
  /** Return the summary link with its artifacts when verification passes (default true; likewise). */
  summary?: boolean;
}

export type WarningCode = 'COMMAND_MISMATCH' | 'INSPECTIONS_SKIPPED' | 'LINK_IGNORED';

/** One failure, with everything a person needs to see why. */
export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
  /** Steps of the enclosing layouts leading to the sublayout this concerns; empty for the root layout. */
  readonly layout: readonly string[];
  readonly step?: string;
  readonly kind?: 'step' | 'inspection';
  readonly side?: 'materials' | 'products';
  readonly ruleIndex?: number;
  /** The rule as written, e.g. `MATCH foo.tar.gz WITH PRODUCTS FROM build`. */
  readonly rule?: string;
  readonly artifacts?: readonly string[];
  readonly keyid?: string;
  /** The link or layout file concerned. */
  readonly file?: string;
  /** For artifacts whose digests a MATCH rule compared: what the other step recorded against what this one did. */
  readonly digests?: readonly DigestMismatch[];
}

export interface DigestMismatch {
  readonly artifact: string;
  /** Where the expected digests come from, e.g. `products of step build` (absent: no such artifact there). */
  readonly source: string;
  readonly expected?: DigestSet;
  readonly found: DigestSet;
}

export interface VerdictWarning {
  readonly code: WarningCode;
  readonly message: string;
  readonly layout: readonly string[];
  readonly step?: string;
}

export interface Verdict {
  readonly passed: boolean;
  readonly failures: readonly Failure[];
  readonly warnings: readonly VerdictWarning[];
  /** Which rule consumed which artifacts, per step or inspection and side. */
  readonly trace: readonly (RuleTraceEntry & { readonly layout: readonly string[] })[];
  /** The summary link of the verified chain (first step's materials, last step's products), when it passed (and was asked for). */
  readonly summary?: LinkJSON;
}

/** A link that counted for a step: its model, and its artifact tables in the rule engine. */
interface CountedLink {
  readonly keyid: string;
  /** The key that signed it (an OpenPGP master key when its subkey signed; absent for inspections). */
  readonly key?: VerificationKey;
  /** `signerIdentities` of the key that signed it: a link by a key already counted is not counted again. */
  readonly signer?: readonly string[];
  /** The link's small part: its materials and products stay in the engine (`artifactsOf`). */
  readonly link: Link;
  readonly handle: LinkHandle;
  readonly file: string;
}

/** A verified (sub)layout's summary: first step's materials, last step's products (get_summary_link). */
interface Summary {
  /** Named, without artifacts: those are the handle's. */
  readonly link: Link;
  readonly handle: LinkHandle;
}

class Collector {
  readonly failures: Failure[] = [];
  readonly warnings: VerdictWarning[] = [];
  readonly trace: (RuleTraceEntry & { layout: readonly string[] })[] = [];
}

const DEFAULT_MAX_SUBLAYOUT_DEPTH = 8;
const DEFAULT_MAX_LINK_FILES = 10_000;

/** A loader that refuses (`LIMIT`) once it has been asked for `max` files. */
function budgeted(loader: LinkLoader, max: number): LinkLoader {
  let used = 0;
  return (path) => {
    if (++used > max) {
      return Promise.reject(new InTotoError('LIMIT', `more than ${max} link files were asked for (maxLinkFiles): refusing ${path}`, { path }));
    }
    return loader(path);
  };
}
const EMPTY_LINK = '{"materials":{},"products":{}}';

/** Verifies a supply chain. Never throws for bad metadata: every problem is a failure in the verdict. */
export async function verify(options: VerifyOptions): Promise<Verdict> {
  const out = new Collector();
  const rules = new RuleEngine();
  const ctx: Context = {
    out,
    rules,
    artifacts: new Map(),
    now: options.now ?? new Date(),
    maxArtifacts: options.maxArtifacts ?? 0xffffffff,
    trace: options.trace ?? true,
    inspections: options.inspections,
    maxDepth: options.maxSublayoutDepth ?? DEFAULT_MAX_SUBLAYOUT_DEPTH,
  };
  let summary: LinkJSON | undefined;
  try {
    const envelope = typeof options.layout === 'object' && 'kind' in options.layout ? options.layout : readEnvelope(options.layout);
    const loader = budgeted(toLoader(options.links, { maxBytes: options.maxLinkBytes ?? getEngine().limits.maxInputBytes }), options.maxLinkFiles ?? DEFAULT_MAX_LINK_FILES);
    const source = { loader, lister: toLister(options.links) };
    const root = await verifyLayout(ctx, envelope, options.layoutKeys, source, [], options.parameters, '');
    if (root && out.failures.length === 0 && options.summary !== false) {
      summary = linkToJSON({ ...root.link, materials: artifactsOf(ctx, root, 'materials'), products: artifactsOf(ctx, root, 'products') });
    }
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    out.failures.push(failureFrom(error, []));
  } finally {
    rules.close();
  }
  const passed = out.failures.length === 0;
  return {
    passed,
    failures: out.failures,
    warnings: out.warnings,
    trace: out.trace,
    ...(passed && summary ? { summary } : {}),
  };
}

/** Where one layout's links are: read by name, listed for certificate functionaries. */
interface Links {
  readonly loader: LinkLoader;
  readonly lister: LinkLister;
}

interface Context {
  readonly out: Collector;
  /** Holds every counted link's artifact tables for the whole verification (sublayouts included). */
  readonly rules: RuleEngine;
  /** Artifacts listed by the engine so far, per link (`artifactsOf`). */
  readonly artifacts: Map<LinkHandle, { materials?: Artifacts; products?: Artifacts }>;
  readonly now: Date;
  readonly maxArtifacts: number;
  readonly trace: boolean;
  readonly inspections: InspectionPolicy | undefined;
  readonly maxDepth: number;
}

function failureFrom(error: InTotoError, layout: readonly string[], extra: Partial<Failure> = {}): Failure {
  return {
    code: error.code,
    message: error.message,
    layout,
    ...(error.step !== undefined ? { step: error.step } : {}),
    ...(error.keyid !== undefined ? { keyid: error.keyid } : {}),
    ...(error.path !== undefined ? { file: error.path } : {}),
    ...extra,
  };
}

/** Where a message says it is: "sublayout of step 'package': " for nested layouts. */
function where(layout: readonly string[]): string {
  return layout.length === 0 ? '' : `in the sublayout of step ${layout.map((s) => `'${s}'`).join(' > ')}: `;
}

/**
 * Verifies one layout and its links; returns its summary link, or undefined when it failed so badly that
 * no summary exists (unparsable, unsigned). `path` names the enclosing sublayout steps.
 */
async function verifyLayout(
  ctx: Context,
  envelope: Envelope,
  keys: readonly VerificationKey[],
  links: Links,
  path: readonly string[],
  parameters: Readonly<Record<string, string>> | undefined,
  summaryName: string,
  /** The one id the key's signature must carry (a sublayout: the outer layout's id); default: any of its ids. */
  keyids?: readonly string[],
): Promise<Summary | undefined> {
  const fail = (code: ErrorCode, message: string, extra: Partial<Failure> = {}) =>
    ctx.out.failures.push({ code, message: where(path) + message, layout: path, ...extra });

  // 1. Format, before any signature (the reference validates when it loads).
  if (envelope.signed._type !== 'layout') {
    fail('FORMAT', `expected a layout, found metadata of type ${JSON.stringify(envelope.signed._type)}`);
    return undefined;
  }
  let layout = parseLayout(envelope.signed);

  // 2. Every trusted key must have signed (under any of the ids it is known by).
  if (keys.length === 0) {
    fail('SIGNATURE', 'no key to verify the layout with was given');
    return undefined;
  }
  let signed = true;
  for (const key of keys) {
    try {
      await verifySignatureBy(envelope, key, keyids, { now: ctx.now });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      fail(error.code, `layout: ${error.message}`, { keyid: key.keyid });
      signed = false;
    }
  }
  if (!signed) return undefined;

  // 3. Expiry: the reference fails when `expires` is before now.
  const expires = Date.parse(layout.expires);
  if (!(expires >= ctx.now.getTime())) {
    fail('LAYOUT_EXPIRED', `the layout expired at ${layout.expires} (verification time ${ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z')})`);
  }

  // Fields 1.3.1 does not know were signed with the rest: golang's certificate fields are enforced, any
  // other is refused, as it may change who may sign or what passes and we cannot tell how.
  const unknown = listUnknownFields(layout).filter((field) => !/^(rootcas|intermediatecas|steps\[\d+\]\.cert_constraints)$/.test(field));
  if (unknown.length > 0) {
    fail('FORMAT', `the layout has fields this verifier does not know: ${unknown.join(', ')}; they may change who may sign or what passes, so the layout is refused`);
    return undefined;
  }
  let certs: LayoutCertificates;
  try {
    certs = readLayoutCertificates(layout);
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    fail(error.code, `layout: ${error.message}`, { ...(error.keyid !== undefined ? { keyid: error.keyid } : {}) });
    return undefined;
  }

  // 4. Parameters (the reference substitutes in the root layout only).
  if (parameters !== undefined) layout = substituteParameters(layout, parameters);

  // The layout's own keys: an id must be the id of the key it maps to, or a signature check could use a
  // key the owner did not mean.
  const layoutKeys = readLayoutKeys(layout, fail);

  // 5-9. Links, per step.
  const chosen = new Map<string, CountedLink>();
  for (const step of layout.steps) {
    const counted = await verifyStepLinks(ctx, step, layoutKeys, certs, links, path, fail);
    if (counted.length === 0) continue;
    checkAgreement(ctx, step, counted, fail);
    chosen.set(step.name, counted[0]!);
  }

  // 10. Step rules: MATCH can only see steps.
  const stepItems: RuleItem[] = layout.steps.filter((step) => chosen.has(step.name)).map((step) => ruleItem('step', step));
  applyRules(ctx, stepItems, chosen, path);

  // 11. Inspections.
  await runInspections(ctx, layout, chosen, path, fail);

  // The summary: materials of the first step, products of the last (get_summary_link).
  const first = layout.steps.length > 0 ? chosen.get(layout.steps[0]!.name) : undefined;
  const last = layout.steps.length > 0 ? chosen.get(layout.steps[layout.steps.length - 1]!.name) : undefined;
  const empty = !first || !last ? ctx.rules.load(EMPTY_LINK, 'whole') : undefined;
  return {
    link: {
      type: 'link',
      name: summaryName,
      materials: new Map(),
      products: new Map(),
      byproducts: {},
      command: [],
      environment: {},
      extra: {},
    },
    handle: ctx.rules.compose((first ?? { handle: empty! }).handle, (last ?? { handle: empty! }).handle),
  };
}

function readLayoutKeys(layout: Layout, fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void): Map<string, VerificationKey> {
  const keys = new Map<string, VerificationKey>();
  for (const [keyid, dict] of Object.entries(layout.keys)) {
    try {
      if (isGpgKeyDict(dict)) {
        // An OpenPGP key: listed under its fingerprint, which is recomputed from the key when it can be.
        const key = gpgKeyFromDict(dict, `keys.${keyid}`);
        if (keyid.toLowerCase() !== key.keyid) {
          fail('KEY', `layout key ${keyid} is a different key (its id is ${key.keyid})`, { keyid });
          continue;
        }
        keys.set(keyid, key);
        continue;
      }
      const key = publicKeyFromDict(dict);
      // The ids computed from the key itself (any scheme another implementation uses), not the one it declares.
      if (!keyidCandidates({ keytype: key.keytype, scheme: key.scheme, public: key.public, spki: key.spki }).includes(keyid)) {
        fail('KEY', `layout key ${keyid} is a different key (its id is ${computeKeyid(key)})`, { keyid });
        continue;
      }
      keys.set(keyid, { ...key, keyid });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      fail(error.code, `layout key ${keyid}: ${error.message}`, { keyid });
    }
  }
  return keys;
}

/**
 * Who may have signed a step's link named after `keyid` (one of the step's `pubkeys`), as the reference
 * decides (`verify_link_signature_thresholds`): the layout's key of that id, whose OpenPGP subkeys' links count
 * for it; or an OpenPGP master key when the id is one of its subkeys. Each candidate is a link file name's id,
 * the key to verify with, and the signature ids accepted. Stricter than the reference: a link for an authorized
 * subkey must be signed by that subkey, not by a sibling.
 */
function linkSigners(keyid: string, layoutKeys: ReadonlyMap<string, VerificationKey>): { fileId: string; key: VerificationKey; ids: string[] }[] | undefined {
  const key = layoutKeys.get(keyid);
  if (key && isGpgKey(key)) {
    const ids = [key.keyid, ...key.subkeys.keys()];
    return [keyid, ...key.subkeys.keys()].map((fileId) => ({ fileId, key, ids }));
  }
  if (key) return [{ fileId: keyid, key, ids: [keyid] }];
  for (const master of layoutKeys.values()) {
    if (isGpgKey(master) && master.subkeys.has(keyid.toLowerCase())) return [{ fileId: keyid, key: master, ids: [keyid.toLowerCase()] }];
  }
  return undefined;
}

/** Loads, checks and counts one step's links. Returns the counted ones, in the order of the step's pubkeys. */
async function verifyStepLinks(
  ctx: Context,
  step: Step,
  layoutKeys: ReadonlyMap<string, VerificationKey>,
  certs: LayoutCertificates,
  links: Links,
  path: readonly string[],
  fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void,
): Promise<CountedLink[]> {
  const counted: CountedLink[] = [];
  const missing: string[] = [];
  const rejected: string[] = [];
  const tried = new Set<string>();
  for (const keyid of new Set(step.pubkeys)) {
    const signers = linkSigners(keyid, layoutKeys);
    const candidates = signers ?? [{ fileId: keyid, key: undefined, ids: [keyid] }];
    const absent: string[] = [];
    for (const { fileId, key, ids } of candidates) {
      const file = linkFileName(step.name, fileId);
      if (tried.has(file)) continue;
      tried.add(file);
      const at = { step: step.name, keyid: fileId, file };
      let bytes: Uint8Array | undefined;
      try {
        bytes = await links.loader(file);
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        fail(error.code, `step '${step.name}': link ${file}: ${error.message}`, at);
        rejected.push(file);
        continue;
      }
      if (bytes === undefined) {
        absent.push(file);
        continue;
      }
      if (!key) {
        fail('KEY', `step '${step.name}': authorized key ${keyid} is not in the layout's keys`, at);
        rejected.push(file);
        continue;
      }
      try {
        // One copy into the engine, now: the signed bytes, the small part and the artifact tables all come from
        // it, so bytes the caller changes after this cannot reach the rules unsigned.
        const { envelope, handle } = readLinkFile(ctx, bytes);
        // Inside a layout its `keys` map is the authority for ids: the signature must carry the map's id (for an
        // OpenPGP key: its own or one of its subkeys').
        await verifySignatureBy(envelope, key, ids, { now: ctx.now });
        // One key listed under several of its ids (legacy and new schemes), or several subkeys of one OpenPGP
        // key, is still one functionary.
        const signer = signerIdentities(key, envelope.signatures.find((sig) => ids.includes(sig.keyid))?.keyid);
        const twin = counted.find((c) => c.signer?.some((id) => signer.includes(id)));
        if (twin) {
          ctx.out.warnings.push({
            code: 'LINK_IGNORED',
            message: `${where(path)}step '${step.name}': link ${file} is signed by the same ${isGpgKey(key) ? `OpenPGP key (${key.keyid}, or its subkey) as ${twin.file}` : `key as ${twin.file} (listed under another of its ids)`}: counted once`,
            layout: path,
            step: step.name,
          });
          rejected.push(file);
          continue;
        }
        const link = await countLink(ctx, step, fileId, key, envelope, handle, file, links, path, ids);
        if (link) counted.push({ ...link, signer });
        else rejected.push(file);
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        fail(error.code, `step '${step.name}': link ${file}: ${error.message}`, at);
        rejected.push(file);
      }
    }
    // A functionary is missing when none of its key's files is there (an OpenPGP key: neither its own nor a subkey's).
    if (absent.length === candidates.length) missing.push(absent.length === 1 ? absent[0]! : `${absent[0]} (or a subkey's: ${absent.slice(1).join(', ')})`);
  }
  const notCounted = certs.constraints.has(step.name) ? await certificateLinks(ctx, step, certs, tried, counted, links, path) : [];
  if (counted.length < step.threshold) {
    const why = [
      missing.length > 0 ? `missing: ${missing.join(', ')}` : '',
      rejected.length > 0 ? `rejected: ${rejected.join(', ')}` : '',
      notCounted.length > 0 ? `not counted: ${notCounted.join('; ')}` : '',
    ].filter(Boolean).join('; ');
    fail(
      // Too few files at all is the reference's LinkNotFoundError; enough files but too few valid, its ThresholdVerificationError.
      counted.length + rejected.length + notCounted.length < step.threshold ? 'LINK_MISSING' : 'THRESHOLD',
      `step '${step.name}' needs links from ${step.threshold} authorized functionar${step.threshold === 1 ? 'y' : 'ies'}, found ${counted.length} valid (${why})`,
      { step: step.name },
    );
  } else {
    for (const reason of notCounted) {
      ctx.out.warnings.push({ code: 'LINK_IGNORED', message: `${where(path)}step '${step.name}': ${reason}`, layout: path, step: step.name });
    }
  }
  return counted;
}

/**
 * A verified link (or sublayout) for `step`, signed by `key` under `keyid`; undefined when a sublayout failed
 * (its failures are reported). Throws for a link that is not this step's.
 */
async function countLink(
  ctx: Context,
  step: Step,
  keyid: string,
  key: VerificationKey,
  envelope: Envelope,
  handle: LinkHandle,
  file: string,
  links: Links,
  path: readonly string[],
  /** The signature ids the key may sign under (an OpenPGP key: its own and its subkeys'); default `[keyid]`. */
  ids: readonly string[] = [keyid],
): Promise<CountedLink | undefined> {
  if (envelope.signed._type === 'layout') {
    ctx.rules.free(handle);
    const summary = await verifySublayout(ctx, step, keyid, key, envelope, links, path, ids);
    return summary ? { keyid, key, link: summary.link, handle: summary.handle, file } : undefined;
  }
  const link = parseLink(envelope.signed);
  // The reference does not compare a link's name with the step; we do: a link signed for one step
  // must not be replayed as evidence for another.
  if (link.name !== step.name) throw new InTotoError('FORMAT', `it is for step '${link.name}'`, { step: step.name, keyid, path: file });
  warnCommand(ctx, step, link, path);
  return { keyid, key, link, handle, file };
}

/**
 * Links of in-toto-golang's certificate functionaries for a step with `cert_constraints`: the other files named
 * `<step>.<id>.link`, each counted when the signature whose key id starts with `<id>` carries a certificate that
 * chains to the layout's roots, meets a constraint, and whose key verifies the signature (see
 * `cert-constraints.ts`). Adds them to `counted`; returns why the others were not counted.
 */
async function certificateLinks(
  ctx: Context,
  step: Step,
  certs: LayoutCertificates,
  tried: ReadonlySet<string>,
  counted: CountedLink[],
  links: Links,
  path: readonly string[],
): Promise<string[]> {
  const names = await links.lister('');
  if (names === undefined) {
    return [`step '${step.name}' accepts certificate functionaries, but the link source cannot be listed to find their links (pass a map, a directory, or a loader with list())`];
  }
  const prefix = `${step.name}.`;
  const candidates = names
    .filter((name) => name.startsWith(prefix) && name.endsWith('.link') && !tried.has(name))
    .map((name) => ({ file: name, short: name.slice(prefix.length, -'.link'.length) }))
    .filter(({ short }) => /^[0-9a-fA-F]+$/.test(short))
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  const reasons: string[] = [];
  for (const { file, short } of candidates) {
    try {
      const bytes = await links.loader(file);
      if (bytes === undefined) continue;
      const { envelope, handle } = readLinkFile(ctx, bytes);
      // golang: the file name's id is a prefix of the signer's key id.
      const entry = envelope.signatures.find((s) => s.keyid.startsWith(short));
      if (!entry) throw new InTotoError('SIGNATURE', `no signature by a key whose id starts with ${short}`);
      if (typeof entry.cert !== 'string' || entry.cert === '') {
        throw new InTotoError('SIGNATURE', `signed by key ${entry.keyid}, which is not among the step's pubkeys, and the signature carries no certificate`, { keyid: entry.keyid });
      }
      const cert = parseCertificatePem(entry.cert);
      const key = publicKeyFromSpkiDer(cert.spki);
      if (!keyidCandidates(key).includes(entry.keyid)) {
        throw new InTotoError('KEY', `the signature names key ${entry.keyid}, but its certificate holds key ${key.keyid}`, { keyid: entry.keyid });
      }
      await checkCertificateFunctionary(cert, step.name, certs, ctx.now);
      await verifySignatureBy(envelope, { ...key, keyid: entry.keyid }, [entry.keyid]);
      const signer = signerIdentities(key);
      if (counted.some((c) => c.keyid === entry.keyid || c.signer?.some((id) => signer.includes(id)))) {
        throw new InTotoError('THRESHOLD', `signed by a key that already has a counted link for this step (${entry.keyid})`, { keyid: entry.keyid });
      }
      if (envelope.signed._type === 'layout') throw new InTotoError('FORMAT', 'a sublayout must be signed by a key of the layout, not by a certificate');
      const link = await countLink(ctx, step, entry.keyid, { ...key, keyid: entry.keyid }, envelope, handle, file, links, path);
      if (link) counted.push({ ...link, signer });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      reasons.push(`link ${file}: ${error.message}`);
    }
  }
  return reasons;
}

/**
 * Reads a link file through the engine in one pass: the envelope with the link's small part (materials and
 * products left empty), and the link's artifact tables in the engine. Metablock or DSSE; a sublayout comes
 * back the same way (its tables are empty).
 */
function readLinkFile(ctx: Context, bytes: Uint8Array): { envelope: Envelope; handle: LinkHandle } {
  let read: ReturnType<RuleEngine['read']> | undefined;
  try {
    read = ctx.rules.read(bytes, 'signed', true, ctx.maxArtifacts);
  } catch (error) {
    // No `signed` object: not a Metablock; DSSE is read below (anything else fails there, with its reason).
    if (!(error instanceof InTotoError && error.field === 'signed')) throw error;
  }
  if (read) {
    const { handle, canonical, lean } = read;
    const envelope = envelopeFromDocument(JSON.parse(lean), {
      signedBytes: () => canonical!,
      readPayload: () => {
        throw new InTotoError('FORMAT', 'a document with both "signed" and "payload" is neither a Metablock nor DSSE', { field: 'payload' });
      },
    });
    return { envelope, handle };
  }
  let handle: LinkHandle | undefined;
  const envelope = envelopeFromDocument(parseJson(bytes), {
    signedBytes: () => {
      throw new InTotoError('FORMAT', 'a Metablock needs a "signed" object', { field: 'signed' });
    },
    readPayload: (payload) => {
      const payloadRead = ctx.rules.read(payload, 'whole', false, ctx.maxArtifacts);
      handle = payloadRead.handle;
      return JSON.parse(payloadRead.lean);
    },
  });
  return { envelope, handle: handle! };
}

/** A counted link's materials or products, listed by the engine (for messages and the summary; cached). */
function artifactsOf(ctx: Context, counted: { readonly handle: LinkHandle }, side: 'materials' | 'products'): Artifacts {
  let cached = ctx.artifacts.get(counted.handle);
  if (!cached) ctx.artifacts.set(counted.handle, (cached = {}));
  return (cached[side] ??= new Map(Object.entries(ctx.rules.artifacts(counted.handle, side))));
}

/**
 * What identifies the key that signed a link, so that one functionary counts once however the layout lists it:
 * the public key itself (SPKI), and for an OpenPGP key also its master key, the (sub)key that signed (`signerId`)
 * being the one whose material counts. A key listed twice (under another of its ids, or an OpenPGP subkey also
 * listed as a key of its own, or the same key as OpenPGP and as a key file) gives intersecting identities.
 */
function signerIdentities(key: VerificationKey, signerId?: string): string[] {
  if (!isGpgKey(key)) return [toHex(key.spki)];
  const signing = (signerId !== undefined ? key.subkeys.get(signerId) : undefined) ?? key;
  const ids = [`openpgp:${key.keyid}`, `openpgp:${signing.keyid}`];
  try {
    if (signing.type === 'rsa') ids.push(toHex(rsaSpkiFromParts(fromHex(signing.public.n!)!, fromHex(signing.public.e!)!)));
    else if (signing.type === 'eddsa') ids.push(toHex(ed25519SpkiFromRaw(fromHex(signing.public.q!)!)));
    else ids.push(`dsa:${signing.public.p}:${signing.public.q}:${signing.public.g}:${signing.public.y}`);
  } catch {
    // Numbers no SPKI can hold: the key ids still identify it.
  }
  return ids;
}

async function verifySublayout(
  ctx: Context,
  step: Step,
  keyid: string,
  key: VerificationKey,
  envelope: Envelope,
  links: Links,
  path: readonly string[],
  ids: readonly string[],
): Promise<Summary | undefined> {
  const inner = [...path, step.name];
  if (inner.length > ctx.maxDepth) {
    ctx.out.failures.push({
      code: 'LIMIT',
      message: `${where(path)}step '${step.name}': sublayouts nest deeper than the limit of ${ctx.maxDepth}`,
      layout: path,
      step: step.name,
    });
    return undefined;
  }
  // The sublayout is verified with the functionary's key (under the outer layout's id for it), its links in
  // `<step>.<keyid8>/`; whatever fails inside is reported with the sublayout's path, and its summary still
  // takes part in the outer rules.
  const dir = sublayoutDirName(step.name, keyid);
  const inside = { loader: subLoader(links.loader, dir), lister: subLister(links.lister, dir) };
  return verifyLayout(ctx, envelope, [key], inside, inner, undefined, step.name, ids);
}

function warnCommand(ctx: Context, step: Step, link: Link, path: readonly string[]): void {
  const expected = step.expectedCommand;
  const same = expected.length === link.command.length && expected.every((arg, i) => arg === link.command[i]);
  if (!same) {
    ctx.out.warnings.push({
      code: 'COMMAND_MISMATCH',
      message: `${where(path)}step '${step.name}': ran ${JSON.stringify(link.command)}, the layout expects ${JSON.stringify(expected)}`,
      layout: path,
      step: step.name,
    });
  }
}

function sameArtifacts(a: Artifacts, b: Artifacts): boolean {
  if (a.size !== b.size) return false;
  for (const [path, digests] of a) {
    const other = b.get(path);
    if (!other) return false;
    const names = Object.keys(digests);
    if (names.length !== Object.keys(other).length || names.some((n) => other[n] !== digests[n])) return false;
  }
  return true;
}

/** With threshold > 1, every counted link must report the same materials and products (verify_threshold_constraints). */
function checkAgreement(ctx: Context, step: Step, counted: readonly CountedLink[], fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void): void {
  if (step.threshold <= 1) return;
  const [first, ...rest] = counted;
  for (const other of rest) {
    if (ctx.rules.equal(first!.handle, other.handle)) continue;
    const sides = (['materials', 'products'] as const).filter((side) => !sameArtifacts(artifactsOf(ctx, first!, side), artifactsOf(ctx, other, side)));
    fail('LINKS_DISAGREE', `step '${step.name}': links ${first!.file} and ${other.file} report different ${sides.join(' and ')}`, {
      step: step.name,
      artifacts: sides.flatMap((side) => differingPaths(artifactsOf(ctx, first!, side), artifactsOf(ctx, other, side))),
    });
  }
}

function differingPaths(a: Artifacts, b: Artifacts): string[] {
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => !sameArtifacts(new Map(a.has(p) ? [[p, a.get(p)!]] : []), new Map(b.has(p) ? [[p, b.get(p)!]] : []))).sort();
}

function ruleItem(kind: 'step' | 'inspection', item: Step | Inspection): RuleItem {
  return { name: item.name, kind, materials: item.expectedMaterials, products: item.expectedProducts };
}

/** Runs the rule engine over `items` and turns its findings into failures that explain themselves. */
function applyRules(ctx: Context, items: readonly RuleItem[], links: ReadonlyMap<string, CountedLink>, path: readonly string[]): void {
  if (items.length === 0) return;
  const result = ctx.rules.apply(items, new Map([...links].map(([name, link]) => [name, link.handle] as const)), { trace: ctx.trace });
  for (const entry of result.trace) ctx.out.trace.push({ ...entry, layout: path });
  for (const finding of result.failures) {
    const owner = items[finding.itemIndex]!;
    const rules = finding.side === 'materials' ? owner.materials : owner.products;
    const digests = explainDigests(ctx, finding.item, finding.side, finding.artifacts, rules, finding.ruleIndex, links);
    // As the reference prints rules: the tokens joined by spaces.
    const ruleText = finding.rule.tokens.join(' ');
    const list = finding.artifacts.length > 0 ? `: ${finding.artifacts.join(', ')}` : '';
    const detail = digests.length > 0 ? ` (${digests.map(describeMismatch).join('; ')})` : '';
    ctx.out.failures.push({
      code: finding.code,
      message: `${where(path)}${owner.kind ?? 'step'} '${finding.item}', ${finding.side} rule ${finding.ruleIndex + 1} '${ruleText}' failed${list}${detail}`,
      layout: path,
      step: finding.item,
      kind: owner.kind ?? 'step',
      side: finding.side,
      ruleIndex: finding.ruleIndex,
      rule: ruleText,
      artifacts: finding.artifacts,
      ...(digests.length > 0 ? { digests } : {}),
    });
  }
}

/**
 * For artifacts a DISALLOW or REQUIRE rule caught, finds the earlier MATCH rules that should have consumed
 * them and says why they did not: the other step did not record the artifact, or recorded other digests.
 */
function explainDigests(
  ctx: Context,
  itemName: string,
  side: 'materials' | 'products',
  artifacts: readonly string[],
  rules: readonly ArtifactRule[],
  ruleIndex: number,
  links: ReadonlyMap<string, CountedLink>,
): DigestMismatch[] {
  const owner = links.get(itemName);
  if (!owner) return [];
  const own = artifactsOf(ctx, owner, side);
  const out: DigestMismatch[] = [];
  for (const artifact of artifacts) {
    const found = own.get(artifact);
    if (!found) continue;
    for (const rule of rules.slice(0, ruleIndex)) {
      if (rule.type !== 'MATCH') continue;
      const src = rule.srcPrefix ? rule.srcPrefix.replace(/\/?$/, '/') : '';
      if (!artifact.startsWith(src) || !matchGlob(rule.pattern, artifact.slice(src.length))) continue;
      const dst = (rule.dstPrefix ? rule.dstPrefix.replace(/\/?$/, '/') : '') + artifact.slice(src.length);
      const from = links.get(rule.step);
      const source = `${rule.dstType.toLowerCase()} of '${rule.step}'`;
      if (!from) continue;
      const other = artifactsOf(ctx, from, rule.dstType === 'MATERIALS' ? 'materials' : 'products');
      const expected = other.get(dst);
      if (!expected || !sameArtifacts(new Map([[dst, expected]]), new Map([[dst, found]]))) {
        out.push({ artifact, source: expected ? source : `${source} (not recorded there as ${dst})`, ...(expected ? { expected } : {}), found });
        break;
      }
    }
  }
  return out;
}

function describeMismatch(m: DigestMismatch): string {
  const show = (d: DigestSet) => Object.entries(d).map(([alg, hex]) => `${alg}:${hex.slice(0, 16)}…`).join(',');
  return m.expected
    ? `${m.artifact}: expected ${show(m.expected)} from ${m.source}, found ${show(m.found)}`
    : `${m.artifact}: found ${show(m.found)}, but it is not in ${m.source}`;
}

async function runInspections(
  ctx: Context,
  layout: Layout,
  stepLinks: ReadonlyMap<string, CountedLink>,
  path: readonly string[],
  fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void,
): Promise<void> {
  if (layout.inspect.length === 0) return;
  const policy = ctx.inspections;
  if (policy === 'skip') {
    ctx.out.warnings.push({
      code: 'INSPECTIONS_SKIPPED',
      message: `${where(path)}inspections were not checked, as asked: ${layout.inspect.map((i) => `'${i.name}'`).join(', ')}`,
      layout: path,
    });
    return;
  }
  if (policy === undefined) {
    fail('INSPECTION', `the layout has inspections (${layout.inspect.map((i) => `'${i.name}'`).join(', ')}) but no way to run them was given: pass inspections: { run } (Node: nodeInspectionRunner()), { links } with pre-recorded links, or 'skip'`);
    return;
  }
  const links = new Map(stepLinks);
  const items: RuleItem[] = [];
  for (const inspection of layout.inspect) {
    try {
      // The inspection's link: from the runner (a plain link, or file bytes) or pre-recorded as `<name>.link`.
      let value: unknown;
      let load: () => LinkHandle;
      const found = 'run' in policy ? await policy.run(inspection) : await toLoader(policy.links)(`${inspection.name}.link`);
      if (found === undefined) {
        fail('INSPECTION', `inspection '${inspection.name}': no pre-recorded link ${inspection.name}.link`, { step: inspection.name, kind: 'inspection', file: `${inspection.name}.link` });
        continue;
      }
      if (found instanceof Uint8Array) {
        const envelope = readEnvelope(found);
        value = envelope.signed;
        load = () => (envelope.kind === 'metablock' ? ctx.rules.load(found, 'signed') : ctx.rules.load(envelope.payload, 'whole'));
      } else {
        value = found;
        load = () => ctx.rules.load(JSON.stringify(found), 'whole');
      }
      const link = parseLink(value);
      const returnValue = link.byproducts['return-value'];
      if (returnValue !== 0 && returnValue !== undefined) {
        fail('INSPECTION', `inspection '${inspection.name}': command ${JSON.stringify(inspection.run)} exited with ${JSON.stringify(returnValue)}`, { step: inspection.name, kind: 'inspection' });
      }
      links.set(inspection.name, { keyid: '', link, handle: load(), file: `${inspection.name}.link` });
      items.push(ruleItem('inspection', inspection));
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      fail(error.code, `inspection '${inspection.name}': ${error.message}`, { step: inspection.name, kind: 'inspection' });
    }
  }
  applyRules(ctx, items, links, path);
}
