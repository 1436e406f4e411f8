/**
 * Signed certificate timestamps (RFC 6962) embedded in a Fulcio certificate: the promise of a certificate
 * transparency log that it logged the precertificate. An SCT counts when a CT log of the trusted root, valid at the
 * SCT's time, signed it over the precertificate entry: the leaf's TBSCertificate without its SCT list, issued by
 * the key of the leaf's issuer.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { InTotoError } from '../errors.js';
import { verify } from '../keys/crypto/index.js';
import { DerError, DerReader, derTlv, TAG } from '../keys/der.js';
import { publicKeyFromSpkiDer } from '../keys/keys.js';
import type { Certificate } from '../keys/x509.js';
import { isValidAt, type TrustedRoot } from './trusted-root.js';

export const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

export interface Sct {
  readonly logId: Uint8Array;
  readonly timestamp: number;
  readonly extensions: Uint8Array;
  readonly hashAlgorithm: number;
  readonly signatureAlgorithm: number;
  readonly signature: Uint8Array;
}

const formatError = (message: string) => new InTotoError('FORMAT', `signed certificate timestamps: ${message}`, { field: 'certificate' });

/** The SCTs of a certificate's SCT list extension (none when it has none). Throws `FORMAT` when malformed. */
export function readScts(cert: Certificate): Sct[] {
  const value = cert.extensions.get(OID_SCT_LIST);
  if (!value) return [];
  let list: Uint8Array;
  try {
    list = new DerReader(value).octetString('SignedCertificateTimestampList');
  } catch (error) {
    if (error instanceof DerError) throw formatError(error.message);
    throw error;
  }
  const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
  if (list.length < 2 || u16(list, 0) !== list.length - 2) throw formatError('the list length is wrong');
  const out: Sct[] = [];
  for (let at = 2; at < list.length; ) {
    if (at + 2 > list.length) throw formatError('truncated');
    const len = u16(list, at);
    const sct = list.subarray(at + 2, at + 2 + len);
    if (sct.length !== len) throw formatError('truncated');
    at += 2 + len;
    // version(1) logID(32) timestamp(8) extensions(2+n) hash(1) signature algorithm(1) signature(2+n)
    if (sct.length < 47 || sct[0] !== 0) throw formatError('an SCT is not version 1');
    const extLen = u16(sct, 41);
    const sigAt = 43 + extLen;
    if (sigAt + 4 > sct.length) throw formatError('truncated');
    const sigLen = u16(sct, sigAt + 2);
    if (sigAt + 4 + sigLen !== sct.length) throw formatError('an SCT has the wrong length');
    const view = new DataView(sct.buffer, sct.byteOffset, sct.byteLength);
    out.push({
      logId: sct.subarray(1, 33),
      timestamp: Number(view.getBigUint64(33)),
      extensions: sct.subarray(41, 43 + extLen),
      hashAlgorithm: sct[sigAt]!,
      signatureAlgorithm: sct[sigAt + 1]!,
      signature: sct.subarray(sigAt + 4),
    });
  }
  return out;
}

/** The leaf's TBSCertificate without its SCT list extension: what the CT log signed (RFC 6962 §3.2). */
function precertificateTbs(cert: Certificate): Uint8Array {
  const outer = new DerReader(cert.tbs).sequence('tbsCertificate');
  const parts: Uint8Array[] = [];
  while (!outer.done) {
    const element = outer.any('tbsCertificate element');
    if (element.tag !== 0xa3) {
      parts.push(element.raw);
      continue;
    }
    const extensions = element.reader().sequence('extensions');
    const kept: Uint8Array[] = [];
    while (!extensions.done) {
      const ext = extensions.any('extension');
      if (ext.reader().oid('extnID') !== OID_SCT_LIST) kept.push(ext.raw);
    }
    parts.push(derTlv(0xa3, derTlv(TAG.SEQUENCE, concat(kept))));
  }
  return derTlv(TAG.SEQUENCE, concat(parts));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies the leaf's SCTs against the trusted root's CT logs; returns how many verified. Throws `SIGNATURE` when
 * fewer than `threshold` do, saying why each did not.
 */
export async function verifyScts(leaf: Certificate, issuer: Certificate, root: TrustedRoot, threshold = 1): Promise<number> {
  const scts = readScts(leaf);
  if (scts.length === 0) throw new InTotoError('SIGNATURE', 'the signing certificate carries no signed certificate timestamp: it was never shown to a certificate transparency log', { field: 'certificate' });
  const tbs = precertificateTbs(leaf);
  const issuerKeyHash = sha256(issuer.spki);
  const problems: string[] = [];
  let verified = 0;
  for (const sct of scts) {
    const hex = Array.from(sct.logId, (b) => b.toString(16).padStart(2, '0')).join('');
    const log = root.ctlogs.find((l) => sameBytes(l.logId, sct.logId) && isValidAt(l.validFor, sct.timestamp));
    if (!log) {
      const when = sct.timestamp <= 8.64e15 ? new Date(sct.timestamp).toISOString() : `${sct.timestamp} ms after 1970`;
      problems.push(`an SCT from log ${hex.slice(0, 16)}..., which is not a CT log of the trusted root at ${when}`);
      continue;
    }
    // RFC 6962 §3.2 digitally-signed struct: version, signature type, timestamp, entry type (precert), issuer key
    // hash, the TBS (24-bit length), the extensions (16-bit length, already with it).
    const signed = new Uint8Array(2 + 8 + 2 + 32 + 3 + tbs.length + sct.extensions.length);
    const view = new DataView(signed.buffer);
    view.setBigUint64(2, BigInt(sct.timestamp));
    view.setUint16(10, 1);
    signed.set(issuerKeyHash, 12);
    signed[44] = tbs.length >> 16;
    signed[45] = (tbs.length >> 8) & 0xff;
    signed[46] = tbs.length & 0xff;
    signed.set(tbs, 47);
    signed.set(sct.extensions, 47 + tbs.length);
    if (await verify(publicKeyFromSpkiDer(log.publicKey), signed, sct.signature)) verified++;
    else problems.push(`the SCT from log ${hex.slice(0, 16)}... does not verify`);
  }
  if (verified < threshold) throw new InTotoError('SIGNATURE', `the signing certificate's signed certificate timestamps do not hold: ${problems.join('; ')}`, { field: 'certificate' });
  return verified;
}
