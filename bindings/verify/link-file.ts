/**
 * One link file read through the engine: a Metablock (the classic link), or a DSSE envelope holding a classic
 * link or a link attestation (a Statement whose predicate is a link v0.3, which stands for the classic link it
 * converts to). The engine reads a Metablock or a link attestation whole in one call (its artifact tables stay
 * there); any other DSSE envelope, or one the engine declines, is read by bindings/attestation/, which is the
 * authority on what a Statement may be (test/attestation/link-file.test.ts holds the two paths to one verdict).
 */
import { parseJson, toUtf8 } from '../engine.js';
import { InTotoError } from '../errors.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { leanStatementToLink, NotALinkError, statementToLink } from '../attestation/predicates.js';
import { readStatement, STATEMENT_V01, STATEMENT_V1 } from '../attestation/statement.js';
import { envelopeFromDocument, FROM_STATEMENT, type Envelope } from '../metadata/envelope.js';
import type { EnvelopeRead, LinkFill, LinkHandle, RuleEngine } from './rule-engine.js';

/**
 * Reads a link file through the engine in one pass: the envelope with the link's small part (materials and
 * products left empty), and the link's artifact tables in the engine. Metablock or DSSE; a sublayout comes
 * back the same way (its tables are empty). `engine: false` reads every DSSE envelope the general way (tests
 * compare the two). `check` runs on a Metablock's envelope while its signed bytes are a view of the engine's memory
 * (signature checks that need no copy) and says whether to keep them: when not, reading `signedBytes` afterwards
 * throws, and `released` is set. `lean` is a Metablock's document without its artifacts (the engine's aux).
 */
export function readLinkFile(
  rules: RuleEngine,
  source: Uint8Array | LinkFill,
  maxArtifacts: number,
  options: { readonly engine?: boolean; readonly check?: (envelope: Envelope) => boolean } = {},
): { envelope: Envelope; handle: LinkHandle; lean?: string; released?: true } {
  let read: EnvelopeRead | undefined;
  /** A Metablock's envelope made while its signed bytes are still in the engine (`check`). */
  let early: Envelope | undefined;
  const check = options.check;
  const onSigned = check && ((signed: Uint8Array, lean: string) => check((early = metablockEnvelope(lean, () => signed))));
  try {
    if (options.engine !== false) read = rules.readEnvelope(source, maxArtifacts, onSigned);
    else {
      // The engine's Metablock reading only (every DSSE envelope read below): the other path, for comparisons.
      const { handle, canonical, lean } = rules.read(bytesOf(source), 'signed', true, maxArtifacts);
      read = { kind: 'metablock', handle, canonical: canonical!, lean };
    }
  } catch (error) {
    // Neither a `signed` object nor a payload: not a Metablock; read below as DSSE, which fails with its reason.
    if (!(error instanceof InTotoError && error.field === 'signed')) throw error;
  }
  if (read?.kind === 'metablock') {
    const { handle, canonical, lean } = read;
    if (!early) return { envelope: metablockEnvelope(lean, () => canonical!), handle, lean };
    // `check` said whether the signed bytes are needed after the call: if not, none were copied, and reading them
    // is a bug, never an empty message a signature could be checked against.
    Object.defineProperty(early, 'signedBytes', canonical
      ? { value: canonical, enumerable: true }
      : { get: () => { throw new InTotoError('ENGINE', 'the signed bytes of this link were not kept after its signature checks'); }, enumerable: true });
    return { envelope: early, handle, lean, ...(canonical ? {} : { released: true as const }) };
  }
  if (read?.kind === 'dsse') {
    // A link attestation the engine read whole: its artifacts are in the tables, the rest is checked here.
    const { handle, signedBytes } = read;
    try {
      const envelope = envelopeFromDocument(parseJson(read.envelope), {
        signedBytes: () => {
          throw new InTotoError('FORMAT', 'a Metablock needs a "signed" object', { field: 'signed' });
        },
        decoded: { signedBytes, payload: signedBytes.subarray(signedBytes.length - payloadLength(signedBytes)) },
        readPayload: () => Object.defineProperty(leanStatementToLink(parseOrdinaryJson(read.statement)), FROM_STATEMENT, { value: true }),
      });
      return { envelope, handle };
    } catch (error) {
      rules.free(handle);
      throw error;
    }
  }
  const bytes = bytesOf(source);
  let handle: LinkHandle | undefined;
  const envelope = envelopeFromDocument(parseJson(bytes), {
    signedBytes: () => {
      throw new InTotoError('FORMAT', 'a Metablock needs a "signed" object', { field: 'signed' });
    },
    readPayload: (payload) => {
      // A Statement (the attestation framework) whose predicate is a link v0.3 stands for the classic link it
      // converts to: its artifacts are read from that link, its signature still covers the payload as received.
      if (mayBeStatement(payload)) {
        const value = parseOrdinaryJson(payload);
        if (typeof value === 'object' && value !== null && [STATEMENT_V1, STATEMENT_V01].includes((value as { _type?: string })._type ?? '')) {
          const link = statementToLink(readStatement(value));
          // The engine reads the artifacts; byproducts and environment stay as the payload said (ordinary JSON:
          // a fraction there is kept exactly, never re-read as canonical JSON).
          const tables = { ...link, byproducts: {}, environment: {} };
          const linkRead = rules.read(toUtf8(JSON.stringify(tables)), 'whole', false, maxArtifacts);
          handle = linkRead.handle;
          return Object.defineProperty({ ...(JSON.parse(linkRead.lean) as object), byproducts: link.byproducts, environment: link.environment }, FROM_STATEMENT, { value: true });
        }
      }
      const payloadRead = rules.read(payload, 'whole', false, maxArtifacts);
      handle = payloadRead.handle;
      return JSON.parse(payloadRead.lean);
    },
  });
  return { envelope, handle: handle! };
}

/** A Metablock's envelope from the engine's lean document (its artifacts in the tables) and its signed bytes. */
function metablockEnvelope(lean: string, signedBytes: () => Uint8Array): Envelope {
  return envelopeFromDocument(JSON.parse(lean), {
    signedBytes,
    readPayload: () => {
      throw new InTotoError('FORMAT', 'a document with both "signed" and "payload" is neither a Metablock nor DSSE', { field: 'payload' });
    },
  });
}

/** The bytes of a link file; for one written straight into the engine, as copied out when the engine did not read it. */
function bytesOf(source: Uint8Array | LinkFill): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (!source.bytes) throw new InTotoError('ENGINE', 'the bytes of this link file were not kept');
  return source.bytes;
}

/** The payload's length in PAE bytes ("DSSEv1 <n> <type> <m> <payload>": m, the fourth field). */
function payloadLength(pae: Uint8Array): number {
  let at = 7; // past "DSSEv1 "
  let n = 0;
  while (pae[at] !== 0x20) n = n * 10 + pae[at++]! - 0x30;
  at += 1 + n + 1;
  let m = 0;
  while (pae[at] !== 0x20) m = m * 10 + pae[at++]! - 0x30;
  return m;
}

const STATEMENT_MARK = toUtf8('https://in-toto.io/Statement/');

/**
 * Whether a payload may be a Statement: it spells a Statement type, or has an escape (which could spell one). A
 * classic link that does is parsed twice, never misread.
 */
function mayBeStatement(payload: Uint8Array): boolean {
  if (payload.includes(0x5c)) return true;
  const first = STATEMENT_MARK[0]!;
  for (let i = payload.indexOf(first); i >= 0 && i + STATEMENT_MARK.length <= payload.length; i = payload.indexOf(first, i + 1)) {
    let j = 1;
    while (j < STATEMENT_MARK.length && payload[i + j] === STATEMENT_MARK[j]) j++;
    if (j === STATEMENT_MARK.length) return true;
  }
  return false;
}

/** Whether reading failed only because the envelope is a Statement of another predicate than a link's. */
export function isNotALink(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof NotALinkError) return true;
  return false;
}
