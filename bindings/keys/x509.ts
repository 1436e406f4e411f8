/**
 * X.509 certificates (RFC 5280), as far as in-toto-golang uses them: a link may be signed by a key that no
 * layout lists, if its signature carries a certificate that chains to one of the layout's `rootcas` (through
 * its `intermediatecas`) and meets one of the step's `cert_constraints` (see `cert-constraints.ts`).
 *
 * The chain check follows Go's `x509.Certificate.Verify` with in-toto-golang's options (the layout's roots and
 * intermediates, the verification time, Go's default key usage: server authentication), and is stricter where
 * Go is lax: CA certificates must allow certificate signing when they carry a key usage (RFC 5280 §4.2.1.3), the
 * leaf must allow digital signatures when it does, and name constraints (which we do not evaluate) are refused
 * rather than ignored. Unknown critical extensions are refused anywhere in the chain (§4.2).
 */
import { verifyWith, type SignatureAlgorithm } from './crypto/index.js';
import { DerError, DerReader, TAG } from './der.js';
import { InTotoError } from '../errors.js';

export interface DistinguishedName {
  /** The last CN attribute, as Go's `pkix.Name.CommonName` (empty when there is none). */
  readonly commonName: string;
  /** Every O attribute, in order (Go's `pkix.Name.Organization`). */
  readonly organizations: readonly string[];
  /** A readable form, for messages (`CN=write-code.example.com, O=example`). */
  readonly text: string;
}

export interface Certificate {
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** `tbsCertificate`, DER: what the issuer signed. */
  readonly tbs: Uint8Array;
  /** The issuer's signature algorithm, or `undefined` for one we do not support (named by `signatureAlgorithmOid`). */
  readonly signatureAlgorithm: SignatureAlgorithm | undefined;
  readonly signatureAlgorithmOid: string;
  readonly signature: Uint8Array;
  readonly serialNumber: string;
  /** The raw issuer and subject Names: chains link by their bytes, as Go's do. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly issuerName: DistinguishedName;
  readonly subjectName: DistinguishedName;
  /** Validity, in milliseconds since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  /** KeyUsage bits (RFC 5280 §4.2.1.3): bit 0 digitalSignature ... bit 5 keyCertSign. */
  readonly keyUsage?: ReadonlySet<number>;
  /** ExtKeyUsage OIDs. */
  readonly extKeyUsage?: readonly string[];
  readonly dnsNames: readonly string[];
  readonly emails: readonly string[];
  readonly uris: readonly string[];
  readonly hasNameConstraints: boolean;
  /** Critical extensions we do not process (their OIDs): such a certificate is refused in a chain. */
  readonly unhandledCriticalExtensions: readonly string[];
  /** Every extension's value (the DER inside extnValue), by OID: for extensions this module does not interpret (Fulcio's). */
  readonly extensions: ReadonlyMap<string, Uint8Array>;
}

// RFC 5280 §4.2.1 extension OIDs.
const EXT_SUBJECT_KEY_ID = '2.5.29.14';
const EXT_KEY_USAGE = '2.5.29.15';
const EXT_SUBJECT_ALT_NAME = '2.5.29.17';
const EXT_BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_NAME_CONSTRAINTS = '2.5.29.30';
const EXT_CERTIFICATE_POLICIES = '2.5.29.32';
const EXT_AUTHORITY_KEY_ID = '2.5.29.35';
const EXT_EXT_KEY_USAGE = '2.5.29.37';
const HANDLED_EXTENSIONS = new Set([
  EXT_SUBJECT_KEY_ID, EXT_KEY_USAGE, EXT_SUBJECT_ALT_NAME, EXT_BASIC_CONSTRAINTS, EXT_NAME_CONSTRAINTS, EXT_AUTHORITY_KEY_ID, EXT_EXT_KEY_USAGE,
  EXT_CERTIFICATE_POLICIES, // Go accepts it critical too; it puts no limit on what a chain may do here
]);
const EKU_ANY = '2.5.29.37.0';
const KEY_USAGE_DIGITAL_SIGNATURE = 0;
const KEY_USAGE_CONTENT_COMMITMENT = 1;
const KEY_USAGE_KEY_CERT_SIGN = 5;

const ATTR_COMMON_NAME = '2.5.4.3';
const ATTR_ORGANIZATION = '2.5.4.10';
const ATTR_SHORT: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'SERIALNUMBER',
};

const HASH_OIDS: Readonly<Record<string, SignatureAlgorithm['hash']>> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

/** Signature algorithms with fixed parameters (RFC 4055 §5, RFC 5758 §3.2, RFC 8410 §3). */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithm & { params: 'null' | 'absent' }>> = {
  '1.2.840.113549.1.1.11': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', params: 'null' },
  '1.2.840.113549.1.1.12': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384', params: 'null' },
  '1.2.840.113549.1.1.13': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512', params: 'null' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA', hash: 'SHA-256', params: 'absent' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA', hash: 'SHA-384', params: 'absent' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA', hash: 'SHA-512', params: 'absent' },
  '1.3.101.112': { name: 'Ed25519', params: 'absent' },
};
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';
/** Longest chain we build (leaf, intermediates, root). */
const MAX_CHAIN_LENGTH = 10;

// ---- parsing ----

/** Reads a DER certificate. Malformed input is a `KEY` error naming what is wrong. */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    return readCertificate(der);
  } catch (error) {
    if (error instanceof DerError) throw new InTotoError('KEY', `malformed X.509 certificate: ${error.message}`, {}, { cause: error });
    // Any other failure on attacker-chosen bytes is still a malformed certificate, never a crash.
    if (error instanceof RangeError || error instanceof TypeError) throw new InTotoError('KEY', `malformed X.509 certificate: ${error.message}`, {}, { cause: error });
    throw error;
  }
}

/** Reads the one `CERTIFICATE` PEM block in `text` (RFC 7468 §5). */
export function parseCertificatePem(text: string): Certificate {
  if (typeof text !== 'string') throw new TypeError('a PEM certificate must be a string');
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (blocks.length !== 1 || blocks[0]![1] !== 'CERTIFICATE') {
    throw new InTotoError('KEY', blocks.length === 0 ? 'no CERTIFICATE PEM block found' : 'expected exactly one CERTIFICATE PEM block');
  }
  const b64 = blocks[0]![2]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new InTotoError('KEY', 'the CERTIFICATE PEM does not hold valid base64');
  return parseCertificate(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}

function readCertificate(der: Uint8Array): Certificate {
  const outer = new DerReader(der);
  const cert = outer.sequence('Certificate');
  outer.end('Certificate');
  const { reader: tbs, raw: tbsRaw } = cert.sequenceWithRaw('tbsCertificate');
  const outerAlgorithm = cert.any('signatureAlgorithm');
  const signature = cert.bitString('signatureValue');
  cert.end('Certificate');

  const versionField = tbs.optionalExplicit(0, 'version');
  const version = versionField ? versionField.smallInteger('version') : 0;
  versionField?.end('version');
  if (version > 2) throw new DerError(`unknown certificate version ${version + 1}`);
  const serial = tbs.read(TAG.INTEGER, 'serialNumber');
  const innerAlgorithm = tbs.any('signature');
  // RFC 5280 §4.1.1.2: the two must be the same; a certificate that says two things is refused.
  if (!equalBytes(innerAlgorithm.raw, outerAlgorithm.raw)) throw new DerError('signatureAlgorithm differs from tbsCertificate.signature');
  const issuer = tbs.any('issuer');
  const validity = tbs.sequence('validity');
  const notBefore = readTime(validity, 'notBefore');
  const notAfter = readTime(validity, 'notAfter');
  validity.end('validity');
  const subject = tbs.any('subject');
  const spki = tbs.sequenceWithRaw('subjectPublicKeyInfo').raw;
  // issuerUniqueID [1], subjectUniqueID [2]: obsolete, ignored (RFC 5280 §4.1.2.8).
  if (tbs.peekTag() === 0x81 || tbs.peekTag() === 0xa1) tbs.any('issuerUniqueID');
  if (tbs.peekTag() === 0x82 || tbs.peekTag() === 0xa2) tbs.any('subjectUniqueID');
  const extensionsField = tbs.optionalExplicit(3, 'extensions');
  tbs.end('tbsCertificate');
  if (extensionsField && version !== 2) throw new DerError('extensions in a certificate that is not version 3');

  const { algorithm, oid } = readSignatureAlgorithm(outerAlgorithm.reader());
  const extensions = extensionsField ? readExtensions(extensionsField) : emptyExtensions();
  return {
    der,
    tbs: tbsRaw,
    signatureAlgorithm: algorithm,
    signatureAlgorithmOid: oid,
    signature,
    serialNumber: [...serial].map((b) => b.toString(16).padStart(2, '0')).join(''),
    issuer: issuer.raw,
    subject: subject.raw,
    issuerName: readName(issuer),
    subjectName: readName(subject),
    notBefore,
    notAfter,
    spki,
    ...extensions,
  };
}

/** The signature algorithm an AlgorithmIdentifier names (the reader positioned inside it), or `undefined` for one we do not support. */
export function readAlgorithmIdentifier(r: DerReader): { algorithm: SignatureAlgorithm | undefined; oid: string } {
  return readSignatureAlgorithm(r);
}

/** The hash an AlgorithmIdentifier's OID names (SHA-256, SHA-384, SHA-512), or `undefined`. */
export function hashOfOid(oid: string): 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined {
  return HASH_OIDS[oid] as 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined;
}

function readSignatureAlgorithm(r: DerReader): { algorithm: SignatureAlgorithm | undefined; oid: string } {
  const oid = r.oid('signatureAlgorithm');
  const fixed = SIGNATURE_ALGORITHMS[oid];
  if (fixed) {
    // RFC 4055 §5: NULL for RSA (absent tolerated, as Go does); RFC 5758 §3.2, RFC 8410 §3: absent.
    if (fixed.params === 'null' && !r.done) r.null('signatureAlgorithm parameters');
    r.end(`signatureAlgorithm ${oid} parameters`);
    const { name, hash } = fixed;
    return { algorithm: hash ? { name, hash } : { name }, oid };
  }
  if (oid === OID_RSASSA_PSS) return { algorithm: readPssParams(r.sequence('RSASSA-PSS-params')), oid };
  return { algorithm: undefined, oid };
}

/** RSASSA-PSS-params (RFC 4055 §3.1); we take SHA-2 with MGF1 over the same hash, which is what is in use. */
function readPssParams(p: DerReader): SignatureAlgorithm | undefined {
  const hashField = p.optionalExplicit(0, 'hashAlgorithm');
  const hashAlg = hashField?.sequence('hashAlgorithm');
  const hash = hashAlg ? HASH_OIDS[hashAlg.oid('hashAlgorithm')] : undefined; // absent: SHA-1, which we refuse
  const mgfField = p.optionalExplicit(1, 'maskGenAlgorithm');
  let mgfHash: SignatureAlgorithm['hash'];
  if (mgfField) {
    const mgf = mgfField.sequence('maskGenAlgorithm');
    if (mgf.oid('maskGenAlgorithm') === OID_MGF1) mgfHash = HASH_OIDS[mgf.sequence('MGF1 hash').oid('MGF1 hash')];
  }
  const saltField = p.optionalExplicit(2, 'saltLength');
  const saltLength = saltField ? saltField.smallInteger('saltLength') : 20;
  const trailer = p.optionalExplicit(3, 'trailerField');
  if (trailer && trailer.smallInteger('trailerField') !== 1) return undefined;
  if (!hash || mgfHash !== hash) return undefined;
  return { name: 'RSA-PSS', hash, saltLength };
}

/**
 * Bytes as a string of the code points 0-255 (Latin-1), in a loop: `String.fromCharCode(...bytes)` overflows the
 * stack on a long attacker-chosen value.
 */
export function latin1(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

/** UTCTime or GeneralizedTime, in the forms RFC 5280 §4.1.2.5 allows (UTC, seconds, no fractions). */
function readTime(r: DerReader, what: string): number {
  const { tag, contents } = r.any(what);
  // RFC 5280 times are 13 or 15 characters: anything longer is no time (and never decoded whole).
  if (contents.length > 15) throw new DerError(`${what}: not a UTCTime or GeneralizedTime in RFC 5280 form`);
  const text = latin1(contents);
  let m: RegExpExecArray | null;
  let year: number;
  if (tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // §4.1.2.5.1
  } else if (tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(m[1]);
  } else {
    throw new DerError(`${what}: not a UTCTime or GeneralizedTime in RFC 5280 form`);
  }
  const [month, day, hour, minute, second] = m.slice(2).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DerError(`${what}: not a valid date (${text})`);
  }
  return ms;
}

/** Name (RFC 5280 §4.1.2.4): SEQUENCE OF SET OF { type, value }. */
function readName(name: { tag: number; reader: () => DerReader }): DistinguishedName {
  if (name.tag !== TAG.SEQUENCE) throw new DerError('Name: expected a SEQUENCE');
  const rdns = name.reader();
  let commonName = '';
  const organizations: string[] = [];
  const parts: string[] = [];
  while (!rdns.done) {
    const rdn = rdns.read(0x31, 'RelativeDistinguishedName');
    const attributes = new DerReader(rdn);
    while (!attributes.done) {
      const atv = attributes.sequence('AttributeTypeAndValue');
      const type = atv.oid('attribute type');
      const value = readDirectoryString(atv.any('attribute value'));
      atv.end('AttributeTypeAndValue');
      if (type === ATTR_COMMON_NAME) commonName = value;
      if (type === ATTR_ORGANIZATION) organizations.push(value);
      parts.push(`${ATTR_SHORT[type] ?? type}=${value}`);
    }
  }
  return { commonName, organizations, text: parts.join(', ') };
}

/** The string types names use (X.520 DirectoryString and friends), decoded as Go decodes them. */
function readDirectoryString(v: { tag: number; contents: Uint8Array }): string {
  const bytes = v.contents;
  switch (v.tag) {
    case 0x0c: // UTF8String
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new DerError('UTF8String is not UTF-8');
      }
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      if (bytes.some((b) => b > 0x7f)) throw new DerError('a non-ASCII byte in an ASCII string type');
      return latin1(bytes);
    case 0x14: // T61String: Go reads it as ISO 8859-1
      return latin1(bytes);
    case 0x1e: {
      // BMPString: UTF-16BE
      if (bytes.length % 2) throw new DerError('BMPString of odd length');
      const units: number[] = [];
      for (let i = 0; i < bytes.length; i += 2) units.push((bytes[i]! << 8) | bytes[i + 1]!);
      return units.map((u) => String.fromCharCode(u)).join('');
    }
    default:
      // Attribute values of other types (e.g. an OCTET STRING) have no string form: show them as hex.
      return `#${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
}

type Extensions = Pick<
  Certificate,
  'basicConstraints' | 'keyUsage' | 'extKeyUsage' | 'dnsNames' | 'emails' | 'uris' | 'hasNameConstraints' | 'unhandledCriticalExtensions' | 'extensions'
>;

function emptyExtensions(): Extensions {
  return { dnsNames: [], emails: [], uris: [], hasNameConstraints: false, unhandledCriticalExtensions: [], extensions: new Map() };
}

function readExtensions(field: DerReader): Extensions {
  const list = field.sequence('Extensions');
  field.end('extensions');
  const seen = new Set<string>();
  const out: { -readonly [K in keyof Extensions]: Extensions[K] } = emptyExtensions();
  const dnsNames: string[] = [];
  const emails: string[] = [];
  const uris: string[] = [];
  const unhandled: string[] = [];
  const raw = new Map<string, Uint8Array>();
  while (!list.done) {
    const ext = list.sequence('Extension');
    const oid = ext.oid('extnID');
    const critical = ext.peekTag() === TAG.BOOLEAN ? ext.boolean('critical') : false;
    const value = ext.octetString('extnValue');
    ext.end('Extension');
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    seen.add(oid);
    raw.set(oid, value);
    const r = new DerReader(value);
    switch (oid) {
      case EXT_BASIC_CONSTRAINTS: {
        const bc = r.sequence('BasicConstraints');
        const ca = bc.peekTag() === TAG.BOOLEAN ? bc.boolean('cA') : false;
        const pathLen = bc.peekTag() === TAG.INTEGER ? bc.smallInteger('pathLenConstraint') : undefined;
        bc.end('BasicConstraints');
        out.basicConstraints = pathLen === undefined ? { ca } : { ca, pathLen };
        break;
      }
      case EXT_KEY_USAGE: {
        // A named BIT STRING: trailing zero bits may be left out (its first octet counts the unused bits).
        const bits = r.read(TAG.BIT_STRING, 'KeyUsage');
        if (bits.length === 0 || bits[0]! > 7) throw new DerError('KeyUsage: malformed BIT STRING');
        const usage = new Set<number>();
        for (let i = 0; i < (bits.length - 1) * 8 - bits[0]!; i++) if (bits[1 + (i >> 3)]! & (0x80 >> (i & 7))) usage.add(i);
        out.keyUsage = usage;
        break;
      }
      case EXT_EXT_KEY_USAGE: {
        const seq = r.sequence('ExtKeyUsageSyntax');
        const oids: string[] = [];
        while (!seq.done) oids.push(seq.oid('KeyPurposeId'));
        out.extKeyUsage = oids;
        break;
      }
      case EXT_SUBJECT_ALT_NAME: {
        const names = r.sequence('GeneralNames');
        while (!names.done) {
          const { tag, contents } = names.any('GeneralName');
          const ascii = () => {
            if (contents.some((b) => b > 0x7f)) throw new DerError('GeneralName: IA5String with a non-ASCII byte');
            return latin1(contents);
          };
          if (tag === 0x81) emails.push(ascii()); // rfc822Name
          else if (tag === 0x82) dnsNames.push(ascii()); // dNSName
          else if (tag === 0x86) uris.push(ascii()); // uniformResourceIdentifier
        }
        break;
      }
      case EXT_NAME_CONSTRAINTS:
        out.hasNameConstraints = true; // not evaluated: a chain through it is refused (see problemsOf)
        continue;
      default:
        if (critical && !HANDLED_EXTENSIONS.has(oid)) unhandled.push(oid);
        continue;
    }
    r.end(`extension ${oid}`);
  }
  return { ...out, dnsNames, emails, uris, unhandledCriticalExtensions: unhandled, extensions: raw };
}

// ---- chains ----

export interface ChainOptions {
  /** Trust anchors: a chain must end at one of these. */
  readonly roots: readonly Certificate[];
  /** Certificates a chain may pass through. */
  readonly intermediates: readonly Certificate[];
  /** The verification time: every certificate in the chain must be valid then. */
  readonly now: Date;
  /**
   * The extended key usage every certificate that restricts its usage must allow (Go's rule): server
   * authentication by default, as in-toto-golang; code signing for Sigstore's Fulcio certificates.
   */
  readonly extKeyUsage?: { readonly oid: string; readonly name: string };
}

/** Extended key usages a chain can be asked to allow. */
export const EKU = {
  serverAuth: { oid: '1.3.6.1.5.5.7.3.1', name: 'server authentication' },
  codeSigning: { oid: '1.3.6.1.5.5.7.3.3', name: 'code signing' },
  timeStamping: { oid: '1.3.6.1.5.5.7.3.8', name: 'time stamping' },
} as const;

/**
 * Finds a chain from `leaf` to one of `roots` whose every signature verifies and whose every certificate is
 * valid at `now` and allowed to take its place (see the module comment). Returns it, leaf first. Throws a
 * `SIGNATURE` error saying why no chain holds (`UNSUPPORTED` for an algorithm we cannot check).
 */
export async function verifyCertificateChain(leaf: Certificate, options: ChainOptions): Promise<Certificate[]> {
  const now = options.now.getTime();
  const problems: string[] = [];
  const eku = options.extKeyUsage ?? EKU.serverAuth;
  const own = problemsOf(leaf, 'leaf', now, 0, eku);
  if (own) throw chainError(leaf, own);
  if (options.roots.some((root) => equalBytes(root.der, leaf.der))) return [leaf];

  const search = async (chain: Certificate[]): Promise<Certificate[] | undefined> => {
    const child = chain[chain.length - 1]!;
    if (chain.length >= MAX_CHAIN_LENGTH) {
      problems.push(`the chain is longer than ${MAX_CHAIN_LENGTH} certificates`);
      return undefined;
    }
    const candidates = [
      ...options.roots.map((cert) => ({ cert, root: true })),
      ...options.intermediates.map((cert) => ({ cert, root: false })),
    ].filter(({ cert }) => equalBytes(cert.subject, child.issuer) && !chain.some((c) => equalBytes(c.der, cert.der)));
    for (const { cert, root } of candidates) {
      const who = `${root ? 'root' : 'intermediate'} '${cert.subjectName.text}'`;
      // Certificates between the leaf and this one: what a pathLenConstraint limits (RFC 5280 §4.2.1.9).
      const below = chain.length - 1;
      const problem = problemsOf(cert, root ? 'root' : 'intermediate', now, below, eku);
      if (problem) {
        problems.push(`${who}: ${problem}`);
        continue;
      }
      if (!(await signedBy(child, cert))) {
        problems.push(`${who} did not sign '${child.subjectName.text}' (the signature does not verify)`);
        continue;
      }
      if (root) return [...chain, cert];
      const found = await search([...chain, cert]);
      if (found) return found;
    }
    if (candidates.length === 0) problems.push(`no root or intermediate is named '${child.issuerName.text}', the issuer of '${child.subjectName.text}'`);
    return undefined;
  };
  const chain = await search([leaf]);
  if (!chain) throw chainError(leaf, problems.join('; '));
  return chain;
}

function chainError(leaf: Certificate, why: string): InTotoError {
  return new InTotoError('SIGNATURE', `certificate '${leaf.subjectName.text}' (serial ${leaf.serialNumber}) is not trusted: ${why}`);
}

/** What disqualifies `cert` from its place in a chain at time `now`, or `undefined`. */
function problemsOf(cert: Certificate, role: 'leaf' | 'intermediate' | 'root', now: number, below: number, eku: { readonly oid: string; readonly name: string }): string | undefined {
  const date = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (now < cert.notBefore) return `not valid before ${date(cert.notBefore)}`;
  if (now > cert.notAfter) return `expired at ${date(cert.notAfter)}`;
  if (cert.unhandledCriticalExtensions.length > 0) return `unsupported critical extension(s) ${cert.unhandledCriticalExtensions.join(', ')}`;
  // Go's rule: the chain must allow the usage asked for wherever it restricts extended key usage.
  if (cert.extKeyUsage && !cert.extKeyUsage.includes(EKU_ANY) && !cert.extKeyUsage.includes(eku.oid)) {
    return eku.oid === EKU.serverAuth.oid
      ? 'its extended key usage does not include server authentication, which in-toto-golang (Go x509 defaults) requires of every certificate in the chain'
      : `its extended key usage does not include ${eku.name}, which every certificate in the chain must allow`;
  }
  if (role === 'leaf') {
    if (cert.keyUsage && !cert.keyUsage.has(KEY_USAGE_DIGITAL_SIGNATURE) && !cert.keyUsage.has(KEY_USAGE_CONTENT_COMMITMENT)) {
      return 'its key usage does not allow digital signatures';
    }
    return undefined;
  }
  if (role === 'intermediate' && !cert.basicConstraints?.ca) return 'not a CA certificate (basicConstraints cA is not set)';
  if (role === 'root' && cert.basicConstraints && !cert.basicConstraints.ca) return 'its basicConstraints say it is not a CA';
  if (cert.keyUsage && !cert.keyUsage.has(KEY_USAGE_KEY_CERT_SIGN)) return 'its key usage does not allow signing certificates';
  if (cert.basicConstraints?.pathLen !== undefined && below > cert.basicConstraints.pathLen) {
    return `its pathLenConstraint ${cert.basicConstraints.pathLen} allows fewer intermediates than the ${below} below it`;
  }
  if (cert.hasNameConstraints) return 'it carries name constraints, which this verifier does not evaluate';
  return undefined;
}

async function signedBy(child: Certificate, issuer: Certificate): Promise<boolean> {
  if (!child.signatureAlgorithm) {
    throw new InTotoError('UNSUPPORTED', `certificate '${child.subjectName.text}' is signed with algorithm ${child.signatureAlgorithmOid}, which this verifier does not support (SHA-1 and MD5 are refused, as Go refuses them)`);
  }
  try {
    return await verifyWith(issuer.spki, child.signatureAlgorithm, child.tbs, child.signature);
  } catch (error) {
    // The issuer's key is one the crypto backend cannot use: it signed nothing we can trust.
    if (error instanceof InTotoError && error.code === 'KEY') return false;
    throw error;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
