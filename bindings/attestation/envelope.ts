/**
 * Statements in DSSE envelopes (ITE-5), one file or a JSON Lines bundle (`.intoto.jsonl`: one envelope a line,
 * each verified on its own: a bundle is not authenticated as a whole).
 */
import { InTotoError } from '../errors.js';
import { isInTotoPayloadType, readDsseEnvelope, type DsseEnvelope } from '../metadata/envelope.js';
import { parseOrdinaryJson } from './json.js';
import { readStatement, type Statement } from './statement.js';

export interface Attestation {
  /** The envelope, its `signed` the Statement as parsed: `verifySignatureBy` and `verifyEnvelope` take it. */
  readonly envelope: DsseEnvelope;
  readonly statement: Statement;
}

/** Reads a DSSE envelope whose payload is a Statement; throws `FORMAT`/`JSON` naming the field. */
export function readAttestation(bytes: Uint8Array | string): Attestation {
  const raw = readDsseEnvelope(bytes);
  if (!isInTotoPayloadType(raw.payloadType)) {
    throw new InTotoError('FORMAT', `DSSE payloadType is "${raw.payloadType}", not a Statement's ("application/vnd.in-toto+json" or "application/vnd.in-toto.<predicate>+json")`, { field: 'payloadType' });
  }
  let statement: Statement;
  try {
    statement = readStatement(parseOrdinaryJson(raw.payload));
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    throw new InTotoError(error.code, `DSSE payload: ${error.message}`, { ...error, field: error.field ? `payload.${error.field}` : 'payload' }, { cause: error });
  }
  return { envelope: { ...raw, signed: statement.raw as Record<string, unknown> }, statement };
}

/** One line of a JSON Lines bundle: its attestation, or why it could not be read. */
export type BundleLine = { readonly line: number; readonly attestation: Attestation } | { readonly line: number; readonly error: InTotoError };

/**
 * The lines of a JSON Lines bundle that hold something, numbered from 1: split at LF (a CR before it dropped), lines
 * of JSON whitespace only skipped. Views into `bytes`, not copies.
 */
export function bundleLines(bytes: Uint8Array): { readonly line: number; readonly bytes: Uint8Array }[] {
  const out: { line: number; bytes: Uint8Array }[] = [];
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const text = bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
    if (!text.every((b) => b === 0x20 || b === 0x09 || b === 0x0d)) out.push({ line, bytes: text });
  }
  return out;
}

/**
 * The envelopes of a JSON Lines bundle, one a line (blank lines skipped). A line that cannot be read is reported
 * on its own and does not hide the others; nothing here says the lines belong together.
 */
export function readAttestationBundle(bytes: Uint8Array | string): BundleLine[] {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new InTotoError('JSON', 'the bundle is not valid UTF-8 (a JSON Lines bundle is UTF-8 text, one envelope a line)');
  }
  return bundleLines(data).map(({ line, bytes: text }) => {
    try {
      return { line, attestation: readAttestation(text) };
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      return { line, error: new InTotoError(error.code, `line ${line}: ${error.message}`, { ...error }, { cause: error }) };
    }
  });
}
