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
 * establish, but it never acts on what failed:
 * - it stops where going on would mean reading unauthenticated data: a layout that fails to parse or whose
 *   signatures do not hold;
 * - no inspection command runs once anything has failed (the reference: rules come first "so that inspection
 *   commands don't run on compromised target files"); the verdict says so (`INSPECTIONS_NOT_RUN`);
 * - cost stays linear in the distinct input: each distinct file (by real path, or by the value a map or loader
 *   gave) is read, parsed and signature-checked once however often layouts name it; a sublayout that contains
 *   itself, and the budgets on files looked up, bytes read and nesting depth, stop verification at once with one
 *   failure; at most `MAX_LISTED_FAILURES` failures are listed, then their count.
 *
 * Beyond 1.3.1 (see docs in `cert-constraints.ts`, `keys.ts`):
 * - a trusted layout key matches a layout signature under any id it is known by (K1, K2, K3; golang's ECDSA
 *   label); inside a layout, the `keys` map is the authority: a link's signature must carry the map's id;
 * - signatures cover `signed` as received, unknown fields included (golang's layouts verify); of the fields
 *   1.3.1 does not know, in-toto-golang's `rootcas`, `intermediatecas` and `cert_constraints` are enforced
 *   (certificate functionaries), any other is refused, naming it: it may change who may sign or what passes.
 */
import { checkCertificateFunctionary, readLayoutCertificates, type LayoutCertificates } from './cert-constraints.js';
import { readEnvelope, verifySignatureBy, verifySignatureBySync, type Envelope, type VerificationKey } from '../metadata/envelope.js';
import { getEngine, parseJson, toUtf8 } from '../engine.js';
import { isNotALink, readLinkFile } from './link-file.js';
import { bundleLines } from '../attestation/envelope.js';
import { InTotoError, type ErrorCode } from '../errors.js';
import { fromHex, toHex } from '../encoding.js';
import { computeKeyid, ed25519SpkiFromRaw, keyidCandidates, publicKeyFromDict, publicKeyFromSpkiDer, rsaSpkiFromParts, type PublicKey } from '../keys/keys.js';
import { subLister, toLister, type LinkLister } from './link-list.js';
import {
  checkLinkDirectory, contentDigest, contentDigestSync, directoryIdentity, linkFileName, subFinder, sublayoutDirName, toFinder, toLoader,
  type FoundLink, type LinkFinder, type LinkSource, type OpenedLink,
} from './link-source.js';
import { getBackend } from '../keys/crypto/index.js';
import {
  linkToJSON, listUnknownFields, parseLayout, parseLink, substituteParameters,
  type Artifacts, type DigestSet, type Inspection, type Layout, type Link, type LinkJSON, type Step,
} from '../metadata/models.js';
import { gpgKeyFromDict, isGpgKey, isGpgKeyDict, type GpgPublicKey } from '../keys/openpgp/key.js';
import { matchGlob, RuleEngine, type LinkFill, type LinkHandle, type RuleItem, type RuleTraceEntry } from './rule-engine.js';
import type { ArtifactRule } from '../metadata/rules.js';
import { parseCertificatePem } from '../keys/x509.js';

/**
 * Where an inspection comes from, so that a runner can refuse one: the root layout's inspections were written by
 * the project owner, a sublayout's by the functionary who signed that sublayout (any functionary of a step may
 * hand in a sublayout, and its inspections then run on the verifier's host).
 */
export interface InspectionOrigin {
  /** The steps leading to the sublayout that holds the inspection; empty for the root layout. */
  readonly layout: readonly string[];
  /** Ids of the keys that signed the layout holding the inspection (the owner's, or the functionary's). */
  readonly signers: readonly string[];
  /** Whether those keys are the root layout's keys (the owner's), as for every root-layout inspection. */
  readonly byOwner: boolean;
}

/**
 * Runs one inspection and returns its link (the `signed` part, or a whole Metablock/DSSE file's bytes). It is
 * called only when everything verified before it passed.
 */
export type InspectionRunner = (inspection: Inspection, origin: InspectionOrigin) => Promise<LinkJSON | Uint8Array>;

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
  /**
   * Inspections of sublayouts, written by a step's functionary rather than the owner: `'run'` them as the
   * reference does (default), or `'refuse'` to run any inspection whose layout was not signed by the root
   * layout's keys (verification then fails with `INSPECTION_REFUSED`).
   */
  sublayoutInspections?: 'run' | 'refuse';
  /** How deep sublayouts may nest (default 8). */
  maxSublayoutDepth?: number;
  /** Largest link file read from a directory, in bytes (default: the engine's `maxInputBytes`, 256 MiB). */
  maxLinkBytes?: number;
  /**
   * Link files loaded per verification, sublayouts included (default 10,000): sublayouts that name each other
   * could otherwise make a few files cost steps^depth loads.
   */
  maxLinkFiles?: number;
  /** Bytes read from link files per verification, sublayouts included (default 1 GiB); a file known by its path is read once. */
  maxTotalLinkBytes?: number;
  /**
   * Sublayouts verified per verification (default 100); one verified again with the same file, link directory, key
   * and depth is reused, not counted.
   */
  maxSublayouts?: number;
  /** Most artifacts on one side of one link (default: no limit beyond `maxLinkBytes`). */
  maxArtifacts?: number;
  /** Return the trace of which rule consumed which artifacts (default true; on large chains it costs time). */
  trace?: boolean;
  /** Return the summary link with its artifacts when verification passes (default true; likewise). */
  summary?: boolean;
  /**
   * Return the SHA-256 of every link file read, by its path in the link source (default false): what a
   * verification summary (VSA) lists as its inputs.
   */
  inputs?: boolean;
}

export type WarningCode = 'COMMAND_MISMATCH' | 'INSPECTIONS_SKIPPED' | 'INSPECTIONS_NOT_RUN' | 'LINK_IGNORED';

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
  /** Where the found digests were recorded, e.g. `materials of 'build-tarball'`. */
  readonly foundIn: string;
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
  /** Every link file read, in the order read, with its SHA-256 (when asked for: `inputs`). */
  readonly inputs?: readonly { readonly name: string; readonly digest: { readonly sha256: string } }[];
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
  /** Found in an attestation bundle (`<bundle>.intoto.jsonl`), not in a file of its own. */
  readonly bundled?: boolean;
}

/**
 * A sublayout whose signature held, verified only once every step's links are loaded and checked (as the
 * reference orders it: link signatures and thresholds for the whole layout, then sublayouts), so that a
 * sublayout's inspections cannot run before a failure elsewhere in the enclosing layout is known.
 */
interface PendingSublayout {
  readonly keyid: string;
  readonly key: VerificationKey;
  readonly signer: readonly string[];
  readonly file: string;
  readonly pending: { readonly read: ReadLink & { id: unknown }; readonly ids: readonly string[]; readonly links: Links };
}

type Candidate = CountedLink | PendingSublayout;

/** A sublayout being verified: its file (`loadLink`'s id) and its link directory (`Links.dir`). */
interface Ancestor {
  readonly file: unknown;
  readonly dir: unknown;
}

/** A verified (sub)layout's summary: first step's materials, last step's products (get_summary_link). */
interface Summary {
  /** Named, without artifacts: those are the handle's. */
  readonly link: Link;
  readonly handle: LinkHandle;
}

/**
 * Failures listed in a verdict; past this many, one more entry gives their count (a hostile input can make
 * thousands), except that up to as many failures of signatures, keys and expiry are listed all the same.
 */
export const MAX_LISTED_FAILURES = 100;
const URGENT: ReadonlySet<ErrorCode> = new Set(['SIGNATURE', 'KEY', 'KEY_EXPIRED', 'LAYOUT_EXPIRED', 'INSPECTION_REFUSED']);

class Collector {
  readonly failures: Failure[] = [];
  readonly warnings: VerdictWarning[] = [];
  readonly trace: (RuleTraceEntry & { layout: readonly string[] })[] = [];
  /** Every failure found, listed or not. */
  count = 0;
  /** Why verification stopped early, if it did: listed first, whatever else was found. */
  stopped?: Failure;

  /** Failures past the cap that are still listed: a forged signature or a bad key must not hide behind a hundred missing links. */
  #urgent = 0;

  fail(failure: Failure): void {
    if (++this.count <= MAX_LISTED_FAILURES) this.failures.push(failure);
    else if (URGENT.has(failure.code) && this.#urgent++ < MAX_LISTED_FAILURES) this.failures.push(failure);
  }

  stop(failure: Failure): void {
    this.count++;
    this.stopped = failure;
  }

  /** The listed failures (why it stopped first), and one entry for those not listed. */
  listed(): Failure[] {
    const listed = this.stopped ? [this.stopped, ...this.failures] : this.failures;
    const more = this.count - listed.length;
    if (more === 0) return listed;
    return [...listed, { code: 'LIMIT', message: `${more} more failure${more === 1 ? '' : 's'} not listed (the first ${MAX_LISTED_FAILURES} are, and every failure of a signature, key or expiry up to as many again)`, layout: [] }];
  }
}

/**
 * Ends a verification at once: an input built to make verification costly (a layout that contains itself, a
 * budget exceeded). Not an InTotoError, so that no per-file handler turns it into one more failure and goes on.
 */
class StopVerification extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

const DEFAULT_MAX_SUBLAYOUT_DEPTH = 8;
const DEFAULT_MAX_LINK_FILES = 10_000;
const DEFAULT_MAX_TOTAL_LINK_BYTES = 1024 ** 3;
const DEFAULT_MAX_SUBLAYOUTS = 100;

/** Numbers values by identity, first seen first. */
function numbering(): (value: unknown) => number {
  const numbers = new Map<unknown, number>();
  return (value) => {
    let n = numbers.get(value);
    if (n === undefined) numbers.set(value, (n = numbers.size));
    return n;
  };
}

/**
 * A finder that stops verification (`LIMIT`) once it has been asked for more than `maxFiles` files, or once the
 * distinct files it read hold more than `maxBytes` bytes.
 */
function budgeted(finder: LinkFinder, maxFiles: number, maxBytes: number, onRead?: (path: string, digest: string) => void): LinkFinder {
  let files = 0;
  let bytes = 0;
  const count = (path: string, n: number) => {
    bytes += n;
    if (bytes > maxBytes) {
      throw new StopVerification({ code: 'LIMIT', message: `verification stopped: the link files read hold more than ${maxBytes} bytes (maxTotalLinkBytes), the last ${path}`, layout: [], file: path });
    }
  };
  // Files read into the engine are recorded from its memory: only where a digest can be made at once.
  const direct = !onRead || contentDigestSync(new Uint8Array(0)) !== undefined;
  return async (path) => {
    if (++files > maxFiles) {
      throw new StopVerification({ code: 'LIMIT', message: `verification stopped: more than ${maxFiles} link files were looked up (maxLinkFiles), the last ${path}; sublayouts that name each other or themselves make this`, layout: [], file: path });
    }
    const found = await finder(path);
    if (!found) return undefined;
    // A file read again (its signed bytes, see `signedBytesAgain`) is neither counted nor recorded again.
    let counted = false;
    const open = found.open;
    return {
      ...(found.id !== undefined ? { id: found.id } : {}),
      read: async () => {
        const data = await found.read();
        if (counted) return data;
        counted = true;
        count(path, data.length);
        onRead?.(path, await contentDigest(data));
        return data;
      },
      ...(open && direct
        ? {
            open: (): OpenedLink => {
              const opened = open();
              return {
                size: opened.size,
                id: opened.id,
                close: () => opened.close(),
                fill: (into) => {
                  const n = opened.fill(into);
                  counted = true;
                  count(path, n);
                  onRead?.(path, contentDigestSync(into.subarray(0, n))!);
                  return n;
                },
              };
            },
          }
        : {}),
    };
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
    files: new Map(),
    digests: new Map(),
    layouts: new WeakMap(),
    signatures: new WeakMap(),
    owner: new Set(options.layoutKeys.flatMap((key) => signerIdentities(key))),
    now: options.now ?? new Date(),
    maxArtifacts: options.maxArtifacts ?? 0xffffffff,
    trace: options.trace ?? true,
    inspections: options.inspections,
    sublayoutInspections: options.sublayoutInspections ?? 'run',
    maxDepth: options.maxSublayoutDepth ?? DEFAULT_MAX_SUBLAYOUT_DEPTH,
    maxSublayouts: options.maxSublayouts ?? DEFAULT_MAX_SUBLAYOUTS,
    sublayouts: new Map(),
    ids: numbering(),
    budget: { sublayouts: 0, bundleLines: 0 },
    maxLinkFiles: options.maxLinkFiles ?? DEFAULT_MAX_LINK_FILES,
    verifySync: await syncVerifier(),
    again: new WeakMap(),
  };
  let summary: LinkJSON | undefined;
  const inputs: { name: string; digest: { sha256: string } }[] = [];
  const recordInput = options.inputs ? (name: string, sha256: string) => void inputs.push({ name, digest: { sha256 } }) : undefined;
  try {
    const envelope = typeof options.layout === 'object' && 'kind' in options.layout ? options.layout : readEnvelope(options.layout);
    if (typeof options.links === 'object' && 'directory' in options.links && typeof options.links.directory === 'string') await checkLinkDirectory(options.links.directory);
    const finder = budgeted(
      toFinder(options.links, { maxBytes: options.maxLinkBytes ?? getEngine().limits.maxInputBytes }),
      options.maxLinkFiles ?? DEFAULT_MAX_LINK_FILES,
      options.maxTotalLinkBytes ?? DEFAULT_MAX_TOTAL_LINK_BYTES,
      recordInput,
    );
    const dirOf = directoryIdentity(options.links);
    const source = { finder, lister: toLister(options.links), where: describeSource(options.links), dir: await dirOf('.'), dirOf };
    const root = await verifyLayout(ctx, envelope, options.layoutKeys, source, [], options.parameters, '', undefined, [], options.summary !== false);
    if (root && out.count === 0 && options.summary !== false) {
      summary = linkToJSON({ ...root.link, materials: artifactsOf(ctx, root, 'materials'), products: artifactsOf(ctx, root, 'products') });
    }
  } catch (error) {
    if (error instanceof StopVerification) out.stop(error.failure);
    else if (error instanceof InTotoError) out.fail(failureFrom(error, []));
    else throw error;
  } finally {
    rules.close();
  }
  const passed = out.count === 0;
  return {
    passed,
    failures: out.listed(),
    warnings: out.warnings,
    trace: out.trace,
    ...(passed && summary ? { summary } : {}),
    ...(options.inputs ? { inputs } : {}),
  };
}

/** Where one layout's links are: found by name, listed for certificate functionaries. */
interface Links {
  readonly finder: LinkFinder;
  readonly lister: LinkLister;
  /** Where they are, for messages: `the link directory /x/links`, `the link map, under pkg.1a2b3c4d/`. */
  readonly where: string;
  /** What identifies this link directory (see `directoryIdentity`), and how to identify one below it. */
  readonly dir: unknown;
  readonly dirOf: (sub: string) => Promise<unknown>;
}

function describeSource(source: LinkSource): string {
  if (typeof source === 'function') return 'the link loader';
  if ('directory' in source && typeof source.directory === 'string') return `the link directory ${source.directory}`;
  return 'the link map';
}

/** A link file read through the engine once (see `loadLink`): its envelope, and a link's artifact tables. */
interface ReadLink {
  readonly envelope: Envelope;
  /** The artifact tables; none for a sublayout (whose tables would be empty). */
  readonly handle?: LinkHandle;
}

interface Context {
  readonly out: Collector;
  /** Holds every counted link's artifact tables for the whole verification (sublayouts included). */
  readonly rules: RuleEngine;
  /** Artifacts listed by the engine so far, per link (`artifactsOf`). */
  readonly artifacts: Map<LinkHandle, { materials?: Artifacts; products?: Artifacts }>;
  /**
   * Each distinct link file, read and parsed once: by `FoundLink.id`, and by the SHA-256 of its bytes (a file in a
   * directory, read straight into the engine: by its device and inode, `OpenedLink.id`).
   */
  readonly files: Map<unknown, Promise<ReadLink & { id: unknown }>>;
  readonly digests: Map<string, Promise<ReadLink & { id: unknown }>>;
  /** Layouts read from envelopes, once per envelope (`prepareLayout`). */
  readonly layouts: WeakMap<Envelope, PreparedLayout | { error: unknown }>;
  /** Signature checks already made, per envelope, key and accepted ids. */
  readonly signatures: WeakMap<Envelope, Map<VerificationKey, Map<string, Promise<void>>>>;
  /** `signerIdentities` of the root layout's keys: whose inspections are the owner's. */
  readonly owner: ReadonlySet<string>;
  readonly now: Date;
  readonly maxArtifacts: number;
  readonly trace: boolean;
  readonly inspections: InspectionPolicy | undefined;
  readonly sublayoutInspections: 'run' | 'refuse';
  readonly maxDepth: number;
  readonly maxSublayouts: number;
  /** Sublayouts verified, by file, directory, key, ids and depth (see `verifySublayout`). */
  readonly sublayouts: Map<string, Promise<Summary | undefined>>;
  /** A small number for any value, by identity: keys of `sublayouts`. */
  readonly ids: (value: unknown) => number;
  readonly budget: { sublayouts: number; bundleLines: number };
  /** Link files looked up, and lines of attestation bundles read, at most (each). */
  readonly maxLinkFiles: number;
  /** The crypto backend's synchronous verify, where there is one: link signatures checked in engine memory. */
  readonly verifySync: ((key: PublicKey, data: Uint8Array, signature: Uint8Array) => boolean) | undefined;
  /** Links whose signed bytes were not kept after their first signature check: how to get them again. */
  readonly again: WeakMap<Envelope, () => Promise<Uint8Array>>;
}

/** The default crypto backend's `verifySync` (node:crypto), which signature checks use anyway, or undefined. */
async function syncVerifier(): Promise<Context['verifySync']> {
  try {
    const backend = await getBackend();
    return backend.verifySync?.bind(backend);
  } catch {
    return undefined;
  }
}

/**
 * Signed bytes of a large link are kept only as long as the engine holds them: past this, a link whose signature
 * was checked as it was read is not copied (a second check, by another key, reads the file again).
 */
const KEEP_SIGNED_BYTES = 1 << 20;

/**
 * Finds and reads `file` through the engine, once per distinct file for the whole verification: a file that
 * several layouts name is read, parsed and signature-checked once when it is the same file (symlinks back to one
 * file, one string under several map keys: known before reading) or has the same bytes (a loader serving one
 * document for every path, copies in a map: known by its SHA-256 once read; hard links in a directory: known by
 * device and inode once opened, the file then read into the engine without a copy). Returns what identifies it too
 * (a sublayout's ancestry is checked with it).
 */
async function loadLink(ctx: Context, links: Links, file: string, signer?: Signer): Promise<(ReadLink & { id: unknown }) | undefined> {
  const found = await links.finder(file);
  if (!found) return undefined;
  const known = found.id === undefined ? undefined : ctx.files.get(found.id);
  const read = known ?? readOnce(ctx, found, signer);
  if (!known && found.id !== undefined) ctx.files.set(found.id, read);
  return read;
}

/** The key (and the ids its signature may carry) a link file is read for, when known before reading. */
interface Signer {
  readonly key: VerificationKey;
  readonly ids: readonly string[];
}

async function readOnce(ctx: Context, found: FoundLink, signer: Signer | undefined): Promise<ReadLink & { id: unknown }> {
  // A file in a directory is read straight into the engine, and known before that by its device and inode.
  const opened = found.open?.();
  if (opened) {
    const known = ctx.digests.get(opened.id);
    if (known) {
      opened.close();
      return known;
    }
    const read = Promise.resolve().then(() => {
      try {
        return readThrough(ctx, found, { length: opened.size, fill: (into: Uint8Array) => opened.fill(into) }, opened.id, signer);
      } finally {
        opened.close();
      }
    });
    ctx.digests.set(opened.id, read);
    return read;
  }
  const bytes = await found.read();
  const digest = await contentDigest(bytes);
  let read = ctx.digests.get(digest);
  if (!read) {
    read = Promise.resolve().then(() => readThrough(ctx, found, bytes, digest, signer));
    ctx.digests.set(digest, read);
  }
  return read;
}

/**
 * Reads a link file through the engine. A link's signature by `signer` is checked at once, in the engine's memory,
 * where the crypto is synchronous; then a large link's signed bytes are not copied out (see `KEEP_SIGNED_BYTES`).
 */
function readThrough(ctx: Context, found: FoundLink, source: Uint8Array | LinkFill, id: string, signer: Signer | undefined): ReadLink & { id: unknown } {
  const verifySync = ctx.verifySync;
  const check = signer && verifySync && !isGpgKey(signer.key)
    ? (envelope: Envelope): boolean => {
        if (envelope.kind !== 'metablock' || envelope.signed._type !== 'link') return true;
        let result: Promise<void>;
        try {
          verifySignatureBySync(envelope, signer.key as PublicKey, signer.ids, verifySync);
          result = Promise.resolve();
        } catch (error) {
          if (!(error instanceof InTotoError)) throw error;
          result = Promise.reject(error);
          // Awaited where the link is considered (verifyStepLinks); not an unhandled rejection meanwhile.
          result.catch(() => {});
        }
        signatureChecks(ctx, envelope, signer.key).set(signer.ids.join(','), result);
        return envelope.signedBytes.length <= KEEP_SIGNED_BYTES;
      }
    : undefined;
  const { envelope, handle, lean, released } = readLinkFile(ctx.rules, source, ctx.maxArtifacts, { ...(check ? { check } : {}) });
  // A sublayout has no artifacts: its summary comes from its own links.
  if (envelope.signed._type !== 'layout') {
    if (released) ctx.again.set(envelope, () => signedBytesAgain(ctx, found, lean!, handle));
    return { envelope, handle, id };
  }
  ctx.rules.free(handle);
  return { envelope, id };
}

/**
 * The signed bytes of a link whose bytes were not kept, for another signature check: the file read again, and
 * used only when it still records what was read the first time (the same document without its artifacts, the same
 * artifact tables: so the same canonical bytes); else `IO`.
 */
async function signedBytesAgain(ctx: Context, found: FoundLink, lean: string, handle: LinkHandle): Promise<Uint8Array> {
  const bytes = await found.read();
  const again = readLinkFile(ctx.rules, bytes, ctx.maxArtifacts, { check: () => true });
  try {
    const canonical = again.envelope.kind === 'metablock' && again.lean === lean && ctx.rules.equal(again.handle, handle) ? again.envelope.signedBytes : undefined;
    if (!canonical) throw new InTotoError('IO', 'the link file changed while it was verified');
    return canonical;
  } finally {
    ctx.rules.free(again.handle);
  }
}

/** The signature checks made on an envelope by a key, by the ids accepted. */
function signatureChecks(ctx: Context, envelope: Envelope, key: VerificationKey): Map<string, Promise<void>> {
  let byKey = ctx.signatures.get(envelope);
  if (!byKey) ctx.signatures.set(envelope, (byKey = new Map()));
  let byIds = byKey.get(key);
  if (!byIds) byKey.set(key, (byIds = new Map()));
  return byIds;
}

/** `verifySignatureBy`, made once per envelope, key and accepted ids (a file named many times is checked once). */
function checkSignature(ctx: Context, envelope: Envelope, key: VerificationKey, ids: readonly string[] | undefined): Promise<void> {
  const byIds = signatureChecks(ctx, envelope, key);
  const id = ids === undefined ? '*' : ids.join(',');
  let check = byIds.get(id);
  if (!check) {
    const again = ctx.again.get(envelope);
    check = again
      ? again().then((signedBytes) => verifySignatureBy({ kind: envelope.kind, signatures: envelope.signatures, signedBytes }, key, ids, { now: ctx.now }))
      : verifySignatureBy(envelope, key, ids, { now: ctx.now });
    byIds.set(id, check);
  }
  return check;
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
  keyids: readonly string[] | undefined,
  /** The sublayouts enclosing this layout, this one included: each file and the link directory it was verified in. */
  ancestry: readonly Ancestor[],
  /**
   * Whether the summary's artifacts are wanted: always for a sublayout; for the root layout, when the caller asks for
   * the summary. Without, they are not composed (a copy of the first step's materials and the last's products).
   */
  summarize = true,
): Promise<Summary | undefined> {
  const fail = (code: ErrorCode, message: string, extra: Partial<Failure> = {}) =>
    ctx.out.fail({ code, message: where(path) + message, layout: path, ...extra });

  // 1. Format, before any signature (the reference validates when it loads).
  if (envelope.signed._type !== 'layout') {
    const signed = envelope.signed as Record<string, unknown>;
    fail('FORMAT', Object.keys(signed).length === 0
      ? 'the layout is empty: its "signed" object has no fields (expected a layout with "_type": "layout")'
      : signed._type === undefined
        ? 'expected a layout, found a "signed" object without "_type" (expected "_type": "layout")'
        : `expected a layout, found metadata of type ${JSON.stringify(signed._type)}`);
    return undefined;
  }
  const prepared = prepareLayout(ctx, envelope);
  let layout = prepared.layout;

  // 2. Every trusted key must have signed (under any of the ids it is known by).
  if (keys.length === 0) {
    fail('SIGNATURE', 'no key to verify the layout with was given');
    return undefined;
  }
  let signed = true;
  for (const key of keys) {
    try {
      await checkSignature(ctx, envelope, key, keyids);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      const by = [...new Set(envelope.signatures.map((sig) => sig.keyid))];
      const signedBy = by.length === 0 ? 'it carries no signature: its owner signs it with in-toto-layout sign LAYOUT -k OWNER_KEY' : `it is signed by key${by.length === 1 ? '' : 's'} ${by.slice(0, 5).join(', ')}${by.length > 5 ? ', ...' : ''}`;
      fail(error.code, `layout: ${error.message}; ${signedBy}`, { keyid: key.keyid });
      signed = false;
    }
  }
  if (!signed) return undefined;

  // 3. Expiry: the reference fails when `expires` is before now.
  const expires = Date.parse(layout.expires);
  if (!(expires >= ctx.now.getTime())) {
    fail('LAYOUT_EXPIRED', `the layout expired at ${layout.expires} (verification time ${ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z')}); its owner renews it with a new expiry and signs it again (in-toto-layout set-expiry LAYOUT --in 6m -k OWNER_KEY)`);
  }

  // Fields 1.3.1 does not know were signed with the rest: golang's certificate fields are enforced, any
  // other is refused, as it may change who may sign or what passes and we cannot tell how.
  const unknown = prepared.unknownFields();
  if (unknown.length > 0) {
    fail('FORMAT', `the layout has fields this verifier does not know: ${unknown.join(', ')}; they may change who may sign or what passes, so the layout is refused`);
    return undefined;
  }
  let certs: LayoutCertificates;
  try {
    certs = prepared.certificates();
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    fail(error.code, `layout: ${error.message}`, { ...(error.keyid !== undefined ? { keyid: error.keyid } : {}) });
    return undefined;
  }

  // 4. Parameters (the reference substitutes in the root layout only).
  if (parameters !== undefined) layout = substituteParameters(layout, parameters);

  // The layout's own keys: an id must be the id of the key it maps to, or a signature check could use a
  // key the owner did not mean.
  const { keys: layoutKeys, problems } = parameters === undefined ? prepared.keys() : readLayoutKeys(layout);
  for (const problem of problems) fail(problem.code, problem.message, problem.extra);

  // 5-6. Links, signatures and thresholds, for every step before any sublayout is verified.
  const layoutSteps = new Set(layout.steps.map((s) => s.name));
  const candidates = new Map<Step, { counted: Candidate[]; twins: Candidate[] }>();
  /** The order each candidate's file was read in. */
  const order = new Map<Candidate, number>();
  for (const step of layout.steps) {
    const found = await verifyStepLinks(ctx, step, layoutKeys, certs, links, path, fail, layoutSteps);
    for (const c of found.read) order.set(c, order.size);
    candidates.set(step, found);
  }

  // 7. Sublayouts, in step order; a failed one no longer counts for its step.
  const verified = new Map<Step, { counted: CountedLink[]; twins: CountedLink[] }>();
  for (const [step, { counted, twins }] of candidates) {
    // In the order the step's files were read (counted and twins interleaved), as the reference verifies them.
    const resolved = new Map<Candidate, CountedLink | undefined>();
    for (const candidate of [...counted, ...twins].sort((a, b) => order.get(a)! - order.get(b)!)) {
      if (!('pending' in candidate)) {
        resolved.set(candidate, candidate);
        continue;
      }
      const summary = await verifySublayout(ctx, step, candidate.keyid, candidate.key, candidate.pending.read, candidate.pending.links, path, candidate.pending.ids, ancestry);
      resolved.set(candidate, summary && { keyid: candidate.keyid, key: candidate.key, signer: candidate.signer, link: summary.link, handle: summary.handle, file: candidate.file });
    }
    const resolve = (list: Candidate[]) => list.flatMap((c) => (resolved.get(c) ? [resolved.get(c)!] : []));
    const ok = resolve(counted);
    if (ok.length < step.threshold && counted.length >= step.threshold) {
      const failed = counted.filter((c) => 'pending' in c && !ok.some((o) => o.file === c.file)).map((c) => c.file);
      fail('THRESHOLD', `step '${step.name}' needs links from ${step.threshold} authorized functionar${step.threshold === 1 ? 'y' : 'ies'}, found ${ok.length} valid: the sublayout${failed.length === 1 ? '' : 's'} ${failed.join(', ')} failed verification (see ${failed.length === 1 ? 'its failures' : 'their failures'})`, { step: step.name });
    }
    verified.set(step, { counted: ok, twins: resolve(twins) });
  }

  // 8-9. Command alignment (warned as links were read) and agreement of every valid link of a step.
  const chosen = new Map<string, CountedLink>();
  for (const [step, { counted, twins }] of verified) {
    if (counted.length === 0) continue;
    checkAgreement(ctx, step, [...counted, ...twins], fail);
    chosen.set(step.name, counted[0]!);
  }

  // 10. Step rules: MATCH can only see steps.
  const stepItems: RuleItem[] = layout.steps.filter((step) => chosen.has(step.name)).map((step) => ruleItem('step', step));
  applyRules(ctx, stepItems, chosen, path);

  // 11. Inspections, by whom this layout's keys say wrote them.
  const signers = keys.map((key) => key.keyid);
  const byOwner = path.length === 0 || keys.every((key) => signerIdentities(key).some((id) => ctx.owner.has(id)));
  await runInspections(ctx, layout, chosen, path, fail, { layout: path, signers, byOwner });

  // The summary: materials of the first step, products of the last (get_summary_link).
  const first = layout.steps.length > 0 ? chosen.get(layout.steps[0]!.name) : undefined;
  const last = layout.steps.length > 0 ? chosen.get(layout.steps[layout.steps.length - 1]!.name) : undefined;
  const empty = !first || !last || !summarize ? ctx.rules.load(EMPTY_LINK, 'whole') : undefined;
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
    handle: summarize ? ctx.rules.compose((first ?? { handle: empty! }).handle, (last ?? { handle: empty! }).handle) : empty!,
  };
}

/**
 * A layout's model and what is read from it, made once per envelope: a sublayout that several steps name (the
 * same file) is parsed once, however often it is verified. Each part throws, every time, what it threw first.
 */
interface PreparedLayout {
  readonly layout: Layout;
  unknownFields(): string[];
  certificates(): LayoutCertificates;
  keys(): { keys: Map<string, VerificationKey>; problems: Problem[] };
}

function prepareLayout(ctx: Context, envelope: Envelope): PreparedLayout {
  const known = ctx.layouts.get(envelope);
  if (known && 'error' in known) throw known.error;
  if (known) return known;
  const once = <T>(make: () => T): (() => T) => {
    let done: { value: T } | { error: unknown } | undefined;
    return () => {
      if (!done) {
        try {
          done = { value: make() };
        } catch (error) {
          done = { error };
        }
      }
      if ('error' in done) throw done.error;
      return done.value;
    };
  };
  let layout: Layout;
  try {
    layout = parseLayout(envelope.signed);
  } catch (error) {
    ctx.layouts.set(envelope, { error });
    throw error;
  }
  const prepared: PreparedLayout = {
    layout,
    unknownFields: once(() => listUnknownFields(layout).filter((field) => !/^(rootcas|intermediatecas|steps\[\d+\]\.cert_constraints)$/.test(field))),
    certificates: once(() => readLayoutCertificates(layout)),
    keys: once(() => readLayoutKeys(layout)),
  };
  ctx.layouts.set(envelope, prepared);
  return prepared;
}

/** A failure found while reading a layout, reported wherever the layout is verified. */
interface Problem {
  readonly code: ErrorCode;
  readonly message: string;
  readonly extra: Partial<Failure>;
}

function readLayoutKeys(layout: Layout): { keys: Map<string, VerificationKey>; problems: Problem[] } {
  const problems: Problem[] = [];
  const fail = (code: ErrorCode, message: string, extra: Partial<Failure>) => problems.push({ code, message, extra });
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
  return { keys, problems };
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

/**
 * Loads, checks and counts one step's links. Returns the counted ones, in the order of the step's pubkeys, and
 * the twins: valid links by a functionary already counted (one key under two of its ids, two subkeys of one
 * OpenPGP key), counted once but still held to agreement (the reference compares every valid link).
 */
async function verifyStepLinks(
  ctx: Context,
  step: Step,
  layoutKeys: ReadonlyMap<string, VerificationKey>,
  certs: LayoutCertificates,
  links: Links,
  path: readonly string[],
  fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void,
  /** The layout's step names: bundled links of other steps are not kept. */
  layoutSteps: ReadonlySet<string>,
): Promise<{ counted: Candidate[]; twins: Candidate[]; read: Candidate[] }> {
  const counted: Candidate[] = [];
  const twins: Candidate[] = [];
  /** Counted links and twins, in the order their files were read. */
  const read: Candidate[] = [];
  const missing: string[] = [];
  const rejected: string[] = [];
  const tried = new Set<string>();
  /** Counts one link file (or bundled envelope) read for `key`: counted, a twin of one counted, or rejected. */
  const consider = async (found: ReadLink & { id: unknown }, file: string, fileId: string, key: VerificationKey, ids: string[], bundled = false): Promise<void> => {
    const { envelope } = found;
    // Inside a layout its `keys` map is the authority for ids: the signature must carry the map's id (for an
    // OpenPGP key: its own or one of its subkeys').
    await checkSignature(ctx, envelope, key, ids);
    // One key listed under several of its ids (legacy and new schemes), or several subkeys of one OpenPGP
    // key, is still one functionary.
    const signer = signerIdentities(key, envelope.signatures.find((sig) => ids.includes(sig.keyid))?.keyid);
    const twin = counted.find((c) => c.signer?.some((id) => signer.includes(id)));
    if (twin) {
      ctx.out.warnings.push({
        code: 'LINK_IGNORED',
        message: `${where(path)}step '${step.name}': link ${file} is signed by the same ${isGpgKey(key) ? `OpenPGP key (${key.keyid}, or its subkey) as ${twin.file}` : `key as ${twin.file}${bundled ? '' : ' (listed under another of its ids)'}`}: counted once`,
        layout: path,
        step: step.name,
      });
      rejected.push(file);
      // Counted once, but a valid link all the same: it must verify (a sublayout) and what it records must
      // agree with the counted one's, as the reference compares every valid link of a step.
      const twinLink = { ...candidateLink(ctx, step, fileId, key, found, file, links, path, ids), signer, ...(bundled ? { bundled } : {}) };
      twins.push(twinLink);
      read.push(twinLink);
      return;
    }
    const candidate = { ...candidateLink(ctx, step, fileId, key, found, file, links, path, ids), signer, ...(bundled ? { bundled } : {}) };
    counted.push(candidate);
    read.push(candidate);
  };
  // Link attestations found by listing: envelopes in the directory's attestation bundles that are links of this step.
  const bundled = (await bundledLinks(ctx, links, path, layoutSteps)).filter((b) => b.step === step.name);
  const considered = new Set<BundledLink>();
  for (const keyid of new Set(step.pubkeys)) {
    const signers = linkSigners(keyid, layoutKeys);
    const candidates = signers ?? [{ fileId: keyid, key: undefined, ids: [keyid] }];
    const absent: string[] = [];
    for (const { fileId, key, ids } of candidates) {
      const file = linkFileName(step.name, fileId);
      if (tried.has(file)) continue;
      tried.add(file);
      const at = { step: step.name, keyid: fileId, file };
      try {
        // One copy into the engine, now: the signed bytes, the small part and the artifact tables all come from
        // it, so bytes the caller changes after this cannot reach the rules unsigned.
        const found = await loadLink(ctx, links, file, key && { key, ids });
        if (found === undefined) {
          absent.push(file);
          continue;
        }
        if (!key) {
          fail('KEY', `step '${step.name}': authorized key ${keyid} is not in the layout's keys`, at);
          rejected.push(file);
          continue;
        }
        await consider(found, file, fileId, key, ids);
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        fail(error.code, `step '${step.name}': link ${file}: ${error.message}`, at);
        rejected.push(file);
      }
    }
    // The same functionary's link attestations in bundles count as its files do (the first counted when it has no
    // file; any other held to agreement as a twin).
    // (Every candidate of one key shares its key and ids: an envelope is considered once per functionary, and one
    // signed by two functionaries counts for each.)
    let inBundle = false;
    const signer = signers?.[0];
    for (const entry of signer ? bundled : []) {
      const { key, ids, fileId } = signer!;
      if (!entry.read.envelope.signatures.some((sig) => ids.includes(sig.keyid))) continue;
      inBundle = true;
      considered.add(entry);
      try {
        await consider(entry.read, entry.file, fileId, key, ids, true);
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        fail(error.code, `step '${step.name}': link ${entry.file}: ${error.message}`, { step: step.name, keyid: fileId, file: entry.file });
        rejected.push(entry.file);
      }
    }
    // A functionary is missing when none of its key's files is there (an OpenPGP key: neither its own nor a subkey's).
    if (absent.length === candidates.length && !inBundle) missing.push(absent.length === 1 ? absent[0]! : `${absent[0]} (or a subkey's: ${absent.slice(1).join(', ')})`);
  }
  const notCounted = certs.constraints.has(step.name) ? await certificateLinks(ctx, step, certs, tried, counted, links, path) : [];
  if (counted.length < step.threshold) {
    // Files for this step that no authorized key's name matches: the usual cause of a "missing" link is a link
    // signed with another key than the layout authorizes.
    const others = missing.length > 0 ? await otherLinkFiles(step, tried, links) : [];
    const why = [
      missing.length > 0 ? `missing: ${missing.join(', ')}, looked for in ${links.where}` : '',
      others.length > 0 ? `present but named for a key the step does not authorize (${[...new Set(step.pubkeys)].map((id) => id.slice(0, 8)).join(', ')}): ${others.join(', ')}` : '',
      rejected.length > 0 ? `rejected: ${rejected.join(', ')}` : '',
      bundled.length > considered.size ? `in attestation bundles but signed by no key the step authorizes: ${bundled.filter((b) => !considered.has(b)).map((b) => b.file).slice(0, 10).join(', ')}` : '',
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
  return { counted, twins, read };
}

/**
 * A link found by listing: an envelope on one line of an attestation bundle (`*.intoto.jsonl`, one DSSE envelope a
 * line, as SLSA and in-toto tools write them; the file is not authenticated as a whole, each line is).
 */
interface BundledLink {
  readonly read: ReadLink & { id: unknown };
  /** `<bundle>:<line>`, for messages. */
  readonly file: string;
  /** The step the link is for (its `name`). */
  readonly step: string;
}

/** Bundles read, per link directory and per set of step names (a directory two layouts share is read for each). */
const bundles = new WeakMap<Links, Map<string, Promise<BundledLink[]>>>();

/**
 * The links in a link directory's attestation bundles, read once per directory however many steps ask. Envelopes of
 * other predicates (provenance, test results) are not links and are passed over; a line that is no readable envelope
 * is a `LINK_IGNORED` warning. Nothing here is trusted yet: each link still needs an authorized signature.
 */
function bundledLinks(ctx: Context, links: Links, path: readonly string[], steps: ReadonlySet<string>): Promise<BundledLink[]> {
  let byLayout = bundles.get(links);
  if (!byLayout) bundles.set(links, (byLayout = new Map()));
  const key = JSON.stringify([...steps].sort());
  let known = byLayout.get(key);
  if (!known) byLayout.set(key, (known = readBundles(ctx, links, path, steps)));
  return known;
}

/** `LINK_IGNORED` warnings listed per bundle at most; the rest are counted in one more. */
const MAX_BUNDLE_WARNINGS = 10;

async function readBundles(ctx: Context, links: Links, path: readonly string[], steps: ReadonlySet<string>): Promise<BundledLink[]> {
  const out: BundledLink[] = [];
  for (const name of (await listedNames(links)).filter((n) => n.endsWith('.intoto.jsonl')).sort()) {
    const ignored: string[] = [];
    const ignore = (why: string) => ignored.push(why);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await (await links.finder(name))?.read();
    } catch (error) {
      // An unreadable bundle (a directory, a FIFO, too large) is evidence nobody can use, not a failed chain: the
      // steps it might have served fail on their own if they lack links. Budgets still stop verification.
      if (!(error instanceof InTotoError)) throw error;
      ignore(error.message);
    }
    for (const { line, bytes: text } of bytes ? bundleLines(bytes) : []) {
      // Every line costs a read through the engine before anything is known of it: lines count like link files.
      if (++ctx.budget.bundleLines > ctx.maxLinkFiles) {
        throw new StopVerification({ code: 'LIMIT', message: `verification stopped: the attestation bundles hold more than ${ctx.maxLinkFiles} lines (maxLinkFiles), the last ${name}:${line}`, layout: [...path], file: name });
      }
      const file = `${name}:${line}`;
      try {
        const { envelope, handle } = readLinkFile(ctx.rules, text, ctx.maxArtifacts);
        // Only links of this layout's steps are kept (a sublayout's own steps are in its own directory).
        if (envelope.signed._type !== 'link' || !steps.has(String(envelope.signed.name))) {
          ctx.rules.free(handle);
          if (envelope.signed._type !== 'link') ignore(`line ${line}: a ${String(envelope.signed._type)} is not a link (sublayouts are files named <step>.<keyid8>.link)`);
          continue;
        }
        out.push({ read: { envelope, handle, id: file }, file, step: String(envelope.signed.name) });
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        if (!isNotALink(error)) ignore(`line ${line}: ${error.message}`);
      }
    }
    for (const why of ignored.slice(0, MAX_BUNDLE_WARNINGS)) {
      ctx.out.warnings.push({ code: 'LINK_IGNORED', message: `${where(path)}attestation bundle ${name}, ${why}`, layout: path });
    }
    if (ignored.length > MAX_BUNDLE_WARNINGS) {
      ctx.out.warnings.push({ code: 'LINK_IGNORED', message: `${where(path)}attestation bundle ${name}: ${ignored.length - MAX_BUNDLE_WARNINGS} more lines ignored`, layout: path });
    }
  }
  return out;
}

/** Link files for `step` (`<step>.<id>.link`) other than those tried, when the source can be listed. */
const listings = new WeakMap<Links, Promise<readonly string[] | undefined>>();

/** The file names in a link directory, listed once however many of its steps need them. */
function listOnce(links: Links): Promise<readonly string[] | undefined> {
  let listing = listings.get(links);
  if (!listing) listings.set(links, (listing = links.lister('')));
  return listing;
}

/** The file names in a link directory, or none when it cannot be listed (a listing only ever adds evidence). */
async function listedNames(links: Links): Promise<readonly string[]> {
  try {
    return (await listOnce(links)) ?? [];
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    return [];
  }
}

async function otherLinkFiles(step: Step, tried: ReadonlySet<string>, links: Links): Promise<string[]> {
  const prefix = `${step.name}.`;
  return (await listedNames(links)).filter((name) => name.startsWith(prefix) && name.endsWith('.link') && !tried.has(name) && /^[0-9a-fA-F]+$/.test(name.slice(prefix.length, -5))).sort().slice(0, 10);
}

/**
 * What a link whose signature held stands for: a link of `step` (throws for a link that is not this step's), or
 * a sublayout to verify once the whole layout's links are checked.
 */
function candidateLink(
  ctx: Context,
  step: Step,
  keyid: string,
  key: VerificationKey,
  read: ReadLink & { id: unknown },
  file: string,
  links: Links,
  path: readonly string[],
  /** The signature ids the key may sign under (an OpenPGP key: its own and its subkeys'). */
  ids: readonly string[],
): Omit<CountedLink, 'signer'> | Omit<PendingSublayout, 'signer'> {
  if (!read.handle) {
    // Read now, with the links (the reference refuses a malformed sublayout when it loads the links), so that it
    // fails as this step's link, before any sublayout's inspection may run.
    prepareLayout(ctx, read.envelope);
    return { keyid, key, file, pending: { read, ids, links } };
  }
  return plainLink(ctx, step, keyid, key, read.envelope, read.handle, file, path);
}

/** A link (not a sublayout) for `step`, its signature already checked. Throws for a link that is not this step's. */
function plainLink(ctx: Context, step: Step, keyid: string, key: VerificationKey, envelope: Envelope, handle: LinkHandle, file: string, path: readonly string[]): CountedLink {
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
  counted: Candidate[],
  links: Links,
  path: readonly string[],
): Promise<string[]> {
  const names = await listOnce(links);
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
      const read = await loadLink(ctx, links, file);
      if (read === undefined) continue;
      const { envelope } = read;
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
      await checkSignature(ctx, envelope, { ...key, keyid: entry.keyid }, [entry.keyid]);
      const signer = signerIdentities(key);
      if (counted.some((c) => c.keyid === entry.keyid || c.signer?.some((id) => signer.includes(id)))) {
        throw new InTotoError('THRESHOLD', `signed by a key that already has a counted link for this step (${entry.keyid})`, { keyid: entry.keyid });
      }
      if (!read.handle) throw new InTotoError('FORMAT', 'a sublayout must be signed by a key of the layout, not by a certificate');
      counted.push({ ...plainLink(ctx, step, entry.keyid, { ...key, keyid: entry.keyid }, envelope, read.handle, file, path), signer });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      reasons.push(`link ${file}: ${error.message}`);
    }
  }
  return reasons;
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
  read: ReadLink & { id: unknown },
  links: Links,
  path: readonly string[],
  ids: readonly string[],
  ancestry: readonly Ancestor[],
): Promise<Summary | undefined> {
  const inner = [...path, step.name];
  // The same sublayout file verified again in the same link directory (symlinks back to `.`): the same layout,
  // the same links, so it would contain itself forever; served for every path it would make verification cost
  // steps^depth. It ends verification. (The same file one directory further down is an ordinary, finite chain.)
  const dirName = sublayoutDirName(step.name, keyid);
  const dir = await links.dirOf(dirName);
  const loop = ancestry.findIndex((a) => a.file === read.id && a.dir === dir);
  if (loop >= 0) {
    throw new StopVerification({
      code: 'LIMIT',
      message: `${where(path)}step '${step.name}': verification stopped: its sublayout is the same file, with the same link directory, as the sublayout of step ${inner.slice(0, loop + 1).map((s) => `'${s}'`).join(' > ')}, which contains it; a layout cannot contain itself`,
      layout: path,
      step: step.name,
    });
  }
  // The same sublayout file, link directory, key and depth as one already verified (siblings that share a
  // directory through symlinks): the same verdict, from the same links. Reused, not verified again, so that a
  // few symlinks cannot make copies without number.
  const memo = `${ctx.ids(read.id)}|${ctx.ids(dir)}|${ctx.ids(key)}|${ids.join(',')}|${inner.length}`;
  const known = ctx.sublayouts.get(memo);
  if (known) {
    const summary = await known;
    return summary && { link: { ...summary.link, name: step.name }, handle: summary.handle };
  }
  if (++ctx.budget.sublayouts > ctx.maxSublayouts) {
    throw new StopVerification({
      code: 'LIMIT',
      message: `${where(path)}step '${step.name}': verification stopped: more than ${ctx.maxSublayouts} sublayouts to verify (maxSublayouts); sublayouts that name each other make this`,
      layout: path,
      step: step.name,
    });
  }
  if (inner.length > ctx.maxDepth) {
    throw new StopVerification({
      code: 'LIMIT',
      message: `${where(path)}step '${step.name}': verification stopped: sublayouts nest deeper than the limit of ${ctx.maxDepth} (maxSublayoutDepth)`,
      layout: path,
      step: step.name,
    });
  }
  // The sublayout is verified with the functionary's key (under the outer layout's id for it), its links in
  // `<step>.<keyid8>/`; whatever fails inside is reported with the sublayout's path, and its summary still
  // takes part in the outer rules.
  const inside: Links = {
    finder: subFinder(links.finder, dirName),
    lister: subLister(links.lister, dirName),
    where: links.where.startsWith('the link directory ') ? `${links.where}/${dirName}` : `${links.where}, under ${dirName}/`,
    dir,
    dirOf: (sub) => links.dirOf(`${dirName}/${sub}`),
  };
  const verified = verifyLayout(ctx, read.envelope, [key], inside, inner, undefined, step.name, ids, [...ancestry, { file: read.id, dir }]);
  ctx.sublayouts.set(memo, verified);
  return verified;
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

/**
 * With threshold > 1, every counted link must report the same materials and products (verify_threshold_constraints).
 * So must they with any threshold once a link comes from an attestation bundle: one functionary may have several
 * there (the reference, one file per key, cannot), and which of two different claims the rules read must not
 * depend on how files are named.
 */
function checkAgreement(ctx: Context, step: Step, counted: readonly CountedLink[], fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void): void {
  if (step.threshold <= 1 && !counted.some((c) => c.bundled)) return;
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
    // A MATCH rule before this one that reads from a step without a verified link could not consume anything:
    // this failure then follows from that step's, reported on its own.
    const upstream = [...new Set(rules.slice(0, finding.ruleIndex).flatMap((r) => (r.type === 'MATCH' && !links.has(r.step) ? [r.step] : [])))];
    const cause = upstream.length > 0
      ? `; this follows from ${upstream.map((u) => `step '${u}'`).join(' and ')} having no verified link (see ${upstream.length === 1 ? 'its failure' : 'their failures'}): the MATCH rules that would consume these artifacts read from ${upstream.length === 1 ? 'it' : 'them'}`
      : // An inspection records every file of the directory it runs in: files no rule expects are what it sees
        // there besides the product (keys, notes, an earlier run's output) as often as a tampered artifact.
        owner.kind === 'inspection' && finding.code === 'RULE_DISALLOW' && digests.length < finding.artifacts.length
        ? `; an inspection records every file of the directory it runs in: those no rule matched are there besides what the layout expects (verify in a directory holding only what you received, or ALLOW them)`
        : '';
    ctx.out.fail({
      code: finding.code,
      message: `${where(path)}${owner.kind ?? 'step'} '${finding.item}', ${finding.side} rule ${finding.ruleIndex + 1} '${ruleText}' failed${list}${detail}${cause}`,
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
        out.push({ artifact, source: expected ? source : `${source} (not recorded there as ${dst})`, ...(expected ? { expected } : {}), found, foundIn: `${side} of '${itemName}'` });
        break;
      }
    }
  }
  return out;
}

function describeMismatch(m: DigestMismatch): string {
  const show = (d: DigestSet) => Object.entries(d).map(([alg, hex]) => `${alg}:${hex.slice(0, 16)}…`).join(',');
  return m.expected
    ? `${m.artifact}: expected ${show(m.expected)} from ${m.source}, found ${show(m.found)} in ${m.foundIn}`
    : `${m.artifact}: found ${show(m.found)} in ${m.foundIn}, but it is not in ${m.source}`;
}

/**
 * Step 11: the layout's inspections. A command runs only when everything verified so far passed (this layout's
 * signatures, expiry, links, thresholds, agreement and rules, and every layout verified before it): the reference
 * stops at the first failure, and runs its rules first "so that inspection commands don't run on compromised
 * target files". Pre-recorded links run nothing, so they are still checked.
 */
async function runInspections(
  ctx: Context,
  layout: Layout,
  stepLinks: ReadonlyMap<string, CountedLink>,
  path: readonly string[],
  fail: (code: ErrorCode, message: string, extra?: Partial<Failure>) => void,
  origin: InspectionOrigin,
): Promise<void> {
  if (layout.inspect.length === 0) return;
  const names = layout.inspect.map((i) => `'${i.name}'`).join(', ');
  const policy = ctx.inspections;
  if (policy === 'skip') {
    ctx.out.warnings.push({ code: 'INSPECTIONS_SKIPPED', message: `${where(path)}inspections were not checked, as asked: ${names}`, layout: path });
    return;
  }
  if (policy === undefined) {
    fail('INSPECTION', `the layout has inspections (${names}) but no way to run them was given: pass inspections: { run } (Node: nodeInspectionRunner()), { links } with pre-recorded links, or 'skip'`);
    return;
  }
  /** Whether anything failed so far: then no command may run (those not run are named in a warning). */
  const stopped = (pending: readonly Inspection[]) => {
    if (ctx.out.count === 0) return false;
    const codes = [...new Set(ctx.out.failures.map((f) => f.code))].join(', ');
    ctx.out.warnings.push({
      code: 'INSPECTIONS_NOT_RUN',
      message: `${where(path)}inspection${pending.length === 1 ? '' : 's'} ${pending.map((i) => `'${i.name}'`).join(', ')} ${pending.length === 1 ? 'was' : 'were'} not run: verification had already failed (${ctx.out.count} problem${ctx.out.count === 1 ? '' : 's'}: ${codes}), and no command runs on what failed verification`,
      layout: path,
    });
    return true;
  };
  if ('run' in policy) {
    if (stopped(layout.inspect)) return;
    if (!origin.byOwner && ctx.sublayoutInspections === 'refuse') {
      fail('INSPECTION_REFUSED', `inspections ${names} were written by the functionary who signed this sublayout (key ${origin.signers.join(', ')}), not by the root layout's owner: refused to run them, as asked (sublayoutInspections: 'refuse', in-toto-verify --owner-inspections-only)`);
      return;
    }
  }
  const links = new Map(stepLinks);
  const items: RuleItem[] = [];
  for (const [index, inspection] of layout.inspect.entries()) {
    const at = { step: inspection.name, kind: 'inspection' as const };
    // An inspection that failed stops the ones after it (the reference raises BadReturnValueError at once).
    if ('run' in policy && stopped(layout.inspect.slice(index))) break;
    try {
      // The inspection's link: from the runner (a plain link, or file bytes) or pre-recorded as `<name>.link`.
      let value: unknown;
      let load: () => LinkHandle;
      const found = 'run' in policy ? await policy.run(inspection, origin) : await toLoader(policy.links)(`${inspection.name}.link`);
      if (found === undefined) {
        fail('INSPECTION', `inspection '${inspection.name}': no pre-recorded link ${inspection.name}.link`, { ...at, file: `${inspection.name}.link` });
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
      // The checks a step's link gets: it is this inspection's (a link recorded for another must not stand in
      // for it), and what it ran is compared with what the layout says to run.
      if (link.name !== inspection.name) {
        fail('FORMAT', `inspection '${inspection.name}': its link is for '${link.name}'`, at);
        continue;
      }
      const same = link.command.length === inspection.run.length && link.command.every((arg, i) => arg === inspection.run[i]);
      if (!same) {
        ctx.out.warnings.push({
          code: 'COMMAND_MISMATCH',
          message: `${where(path)}inspection '${inspection.name}': ran ${JSON.stringify(link.command)}, the layout says to run ${JSON.stringify(inspection.run)}`,
          layout: path,
          step: inspection.name,
        });
      }
      // The reference's BadReturnValueError: anything but a return value of 0, a missing one included.
      const returnValue = link.byproducts['return-value'];
      if (returnValue !== 0) {
        const what = returnValue === undefined ? 'recorded no return value' : `exited with ${JSON.stringify(returnValue)}`;
        fail('INSPECTION', `inspection '${inspection.name}': command ${JSON.stringify(link.command)} ${what}`, at);
      }
      links.set(inspection.name, { keyid: '', link, handle: load(), file: `${inspection.name}.link` });
      items.push(ruleItem('inspection', inspection));
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      fail(error.code, `inspection '${inspection.name}': ${error.message}`, at);
    }
  }
  applyRules(ctx, items, links, path);
}
