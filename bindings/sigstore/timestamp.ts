/**
 * RFC 3161 signed timestamps, as Sigstore bundles carry them (`timestampVerificationData.rfc3161Timestamps`): a
 * TimeStampResp (or the bare TimeStampToken), a CMS SignedData (RFC 5652) over a TSTInfo. A timestamp counts when
 * its message imprint is the hash of the bundle's signature, its signed attributes hold the TSTInfo's digest, its
 * signer's certificate chains to a timestamp authority of the trusted root at the time it states (allowed to stamp
 * time), and that authority's `validFor` window holds the time. Certificates embedded in the token may name the
 * signer; only the trusted root's make it trusted.
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { InTotoError } from '../errors.js';
import { DerError, DerReader, TAG } from '../keys/der.js';
import { verifyWith, type SignatureAlgorithm } from '../keys/crypto/index.js';
import { EKU, hashOfOid, latin1, parseCertificate, readAlgorithmIdentifier, verifyCertificateChain, type Certificate } from '../keys/x509.js';
import { isValidAt, type TrustedRoot } from './trusted-root.js';

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const SET = 0x31;

const HASHES = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

/** A timestamp token, read (nothing verified). */
export interface TimestampToken {
  /** The time the authority states, in milliseconds since the epoch. */
  readonly genTime: number;
  readonly imprint: { readonly hash: keyof typeof HASHES; readonly value: Uint8Array };
  /** The TSTInfo's DER, which the signed attributes' message digest covers. */
  readonly tstInfo: Uint8Array;
  readonly certificates: readonly Certificate[];
  readonly signer: { readonly issuer: Uint8Array; readonly serial: string };
  readonly digest: keyof typeof HASHES;
  /** What the signature covers: the signed attributes as a DER SET (or the TSTInfo when there are none). */
  readonly signedBytes: Uint8Array;
  /** The signed attributes' message digest (absent without signed attributes). */
  readonly messageDigest?: Uint8Array;
  readonly contentType?: string;
  readonly algorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
}

const fail = (message: string) => new InTotoError('SIGNATURE', `RFC 3161 timestamp: ${message}`, { field: 'timestampVerificationData' });

function digestAlgorithm(r: DerReader, what: string): keyof typeof HASHES {
  const alg = r.sequence(what);
  const oid = alg.oid(what);
  const hash = hashOfOid(oid);
  if (!hash) throw new DerError(`${what}: unsupported digest algorithm ${oid}`);
  return hash;
}

/** GeneralizedTime, with optional fractions of a second (RFC 3161 §2.4.2), in milliseconds. */
function generalizedTime(r: DerReader): number {
  const { tag, contents } = r.any('genTime');
  // At most nanoseconds: 14 digits, a point, 9 digits, Z.
  const m = tag === 0x18 && contents.length <= 25 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(latin1(contents)) : null;
  if (!m) throw new DerError('genTime: not a GeneralizedTime in UTC');
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  if (Number.isNaN(t)) throw new DerError('genTime: not a valid time');
  return t;
}

function readTstInfo(der: Uint8Array): { genTime: number; imprint: TimestampToken['imprint'] } {
  const r = new DerReader(der).sequence('TSTInfo');
  r.smallInteger('TSTInfo.version');
  r.oid('TSTInfo.policy');
  const mi = r.sequence('messageImprint');
  const hash = digestAlgorithm(mi, 'messageImprint.hashAlgorithm');
  const value = mi.octetString('messageImprint.hashedMessage');
  r.read(TAG.INTEGER, 'TSTInfo.serialNumber');
  return { genTime: generalizedTime(r), imprint: { hash, value } };
}

/** Reads a TimeStampResp (status granted) or a bare TimeStampToken. Throws `FORMAT` on malformed DER. */
export function readTimestamp(der: Uint8Array): TimestampToken {
  try {
    let outer = new DerReader(der).sequence('TimeStampResp');
    if (outer.peekTag() === TAG.SEQUENCE) {
      const status = outer.sequence('PKIStatusInfo').smallInteger('PKIStatusInfo.status');
      if (status !== 0 && status !== 1) throw new DerError(`the response's status is ${status}, not granted`);
      outer = outer.sequence('timeStampToken');
    }
    if (outer.oid('ContentInfo.contentType') !== OID_SIGNED_DATA) throw new DerError('the token is not CMS SignedData');
    const sd = outer.optionalExplicit(0, 'ContentInfo.content')?.sequence('SignedData');
    if (!sd) throw new DerError('the token has no SignedData');
    sd.smallInteger('SignedData.version');
    sd.read(SET, 'SignedData.digestAlgorithms');
    const encap = sd.sequence('encapContentInfo');
    if (encap.oid('eContentType') !== OID_TST_INFO) throw new DerError('the signed content is not a TSTInfo');
    const tstInfo = encap.optionalExplicit(0, 'eContent')?.octetString('eContent');
    if (!tstInfo) throw new DerError('the TSTInfo is missing');
    const certificates: Certificate[] = [];
    if (sd.peekTag() === 0xa0) {
      const certs = sd.any('certificates').reader();
      while (!certs.done) certificates.push(parseCertificate(certs.any('certificate').raw));
    }
    if (sd.peekTag() === 0xa1) sd.any('crls');
    const infos = new DerReader(sd.read(SET, 'signerInfos'));
    const si = infos.sequence('SignerInfo');
    if (!infos.done) throw new DerError('more than one SignerInfo');
    si.smallInteger('SignerInfo.version');
    if (si.peekTag() !== TAG.SEQUENCE) throw new DerError('the signer is named by a subject key identifier, which is not supported');
    const sid = si.sequence('issuerAndSerialNumber');
    const issuer = sid.any('issuer').raw;
    const serial = [...sid.read(TAG.INTEGER, 'serialNumber')].map((b) => b.toString(16).padStart(2, '0')).join('');
    const digest = digestAlgorithm(si, 'SignerInfo.digestAlgorithm');
    let signedBytes = tstInfo;
    let messageDigest: Uint8Array | undefined;
    let contentType: string | undefined;
    if (si.peekTag() === 0xa0) {
      const attrs = si.any('signedAttrs');
      // Signed as a DER SET OF (RFC 5652 §5.4): the same bytes with the universal SET tag.
      signedBytes = Uint8Array.from(attrs.raw);
      signedBytes[0] = SET;
      const list = attrs.reader();
      while (!list.done) {
        const attr = list.sequence('Attribute');
        const type = attr.oid('Attribute.type');
        const values = new DerReader(attr.read(SET, 'Attribute.values'));
        if (type === OID_MESSAGE_DIGEST) {
          if (messageDigest) throw new DerError('two message digest attributes');
          messageDigest = values.octetString('messageDigest');
        } else if (type === OID_CONTENT_TYPE) {
          if (contentType) throw new DerError('two content type attributes');
          contentType = values.oid('contentType');
        }
      }
    }
    const { algorithm: named, oid } = readAlgorithmIdentifier(si.sequence('signatureAlgorithm'));
    const algorithm = named ?? (oid === OID_RSA_ENCRYPTION ? { name: 'RSASSA-PKCS1-v1_5' as const, hash: digest } : undefined);
    if (!algorithm) throw new DerError(`unsupported signature algorithm ${oid}`);
    const signature = si.octetString('signature');
    return {
      ...readTstInfo(tstInfo),
      tstInfo,
      certificates,
      signer: { issuer, serial },
      digest,
      signedBytes,
      ...(messageDigest ? { messageDigest } : {}),
      ...(contentType ? { contentType } : {}),
      algorithm,
      signature,
    };
  } catch (error) {
    if (error instanceof DerError || error instanceof RangeError) throw new InTotoError('FORMAT', `RFC 3161 timestamp: ${error.message}`, { field: 'timestampVerificationData' });
    throw error;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies a timestamp over `signature` (the bytes whose hash the authority stamped: the bundle's signature) against
 * the trusted root's timestamp authorities. Returns the time it states. Throws `SIGNATURE` saying why it does not count.
 */
export async function verifyTimestamp(der: Uint8Array, signature: Uint8Array, root: TrustedRoot): Promise<number> {
  const token = readTimestamp(der);
  const when = new Date(token.genTime).toISOString();
  if (!sameBytes(HASHES[token.imprint.hash](signature), token.imprint.value)) throw fail(`it stamps another message than this bundle's signature (at ${when})`);
  if (token.messageDigest === undefined || token.contentType !== OID_TST_INFO) throw fail('its signed attributes lack the TSTInfo content type or message digest');
  if (!sameBytes(HASHES[token.digest](token.tstInfo), token.messageDigest)) throw fail('its signed message digest is not the TSTInfo\'s');
  const authorities = root.timestampAuthorities.filter((tsa) => isValidAt(tsa.validFor, token.genTime));
  if (authorities.length === 0) throw fail(`no timestamp authority of the trusted root was valid at ${when}, the time it states`);
  const problems: string[] = [];
  for (const tsa of authorities) {
    const chain = tsa.chain.map((c) => parseCertificate(c));
    const roots = chain.filter((c) => sameBytes(c.issuer, c.subject));
    const intermediates = chain.filter((c) => !roots.includes(c));
    // The signer: a certificate of this authority, or one embedded in the token, named by issuer and serial.
    const signer = [...chain, ...token.certificates].find((c) => sameBytes(c.issuer, token.signer.issuer) && c.serialNumber === token.signer.serial);
    if (!signer) {
      problems.push(`${tsa.uri || tsa.subject.commonName || 'an authority'}: no certificate of it signed the timestamp`);
      continue;
    }
    try {
      await verifyCertificateChain(signer, { roots, intermediates, now: new Date(token.genTime), extKeyUsage: EKU.timeStamping });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      problems.push(error.message);
      continue;
    }
    if (!(await verifyWith(signer.spki, token.algorithm, token.signedBytes, token.signature))) {
      problems.push(`the signature by '${signer.subjectName.text}' does not verify`);
      continue;
    }
    return token.genTime;
  }
  throw fail(`not from a trusted timestamp authority at ${when}: ${problems.join('; ')}`);
}
