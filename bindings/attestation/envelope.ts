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
 * The envelopes of a JSON Lines bundle, one a line (blank lines skipped). A line that cannot be read is reported
 * on its own and does not hide the others; nothing here says the lines belong together.
 */
export function readAttestationBundle(bytes: Uint8Array | string): BundleLine[] {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InTotoError('JSON', 'the bundle is not valid UTF-8 (a JSON Lines bundle is UTF-8 text, one envelope a line)');
  }
  const out: BundleLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push({ line: i + 1, attestation: readAttestation(line) });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      out.push({ line: i + 1, error: new InTotoError(error.code, `line ${i + 1}: ${error.message}`, { ...error }, { cause: error }) });
    }
  });
  return out;
}
