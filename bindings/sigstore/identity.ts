/**
 * Who a Fulcio certificate says signed: its subject alternative name (a URI or an email) and the Fulcio extensions
 * (OID arc 1.3.6.1.4.1.57264.1, fulcio docs/oid-info.md): the OIDC issuer and, for CI workloads, the build and source
 * facts (repository, ref, digest, workflow, trigger, runner environment). Read only from a certificate whose chain
 * is verified elsewhere; matched against a policy with `matchIdentity`.
 */
import { DerReader } from '../keys/der.js';
import { InTotoError } from '../errors.js';
import type { Certificate } from '../keys/x509.js';

const ARC = '1.3.6.1.4.1.57264.1.';
/** Fulcio's extensions (name -> OID). `.1` is the deprecated issuer, its value the raw string rather than DER. */
export const FULCIO_OIDS = {
  issuerV1: `${ARC}1`,
  // Deprecated GitHub Actions extensions (raw bytes, not DER): what certificates issued before the .9-.22 ones carry.
  githubWorkflowTrigger: `${ARC}2`,
  githubWorkflowSha: `${ARC}3`,
  githubWorkflowName: `${ARC}4`,
  githubWorkflowRepository: `${ARC}5`,
  githubWorkflowRef: `${ARC}6`,
  issuer: `${ARC}8`,
  buildSignerURI: `${ARC}9`,
  buildSignerDigest: `${ARC}10`,
  runnerEnvironment: `${ARC}11`,
  sourceRepositoryURI: `${ARC}12`,
  sourceRepositoryDigest: `${ARC}13`,
  sourceRepositoryRef: `${ARC}14`,
  sourceRepositoryIdentifier: `${ARC}15`,
  sourceRepositoryOwnerURI: `${ARC}16`,
  sourceRepositoryOwnerIdentifier: `${ARC}17`,
  buildConfigURI: `${ARC}18`,
  buildConfigDigest: `${ARC}19`,
  buildTrigger: `${ARC}20`,
  runInvocationURI: `${ARC}21`,
  sourceRepositoryVisibilityAtSigning: `${ARC}22`,
} as const;

export type FulcioExtension = keyof typeof FULCIO_OIDS;

export interface SignerIdentity {
  /** The subject alternative names: URIs and emails (Fulcio puts one of them). */
  readonly uris: readonly string[];
  readonly emails: readonly string[];
  /** The OIDC issuer: the `.8` extension, else the deprecated `.1`; they must agree when both are there. */
  readonly issuer?: string;
  /** Every other Fulcio extension present, by name. */
  readonly extensions: Readonly<Partial<Record<Exclude<FulcioExtension, 'issuerV1' | 'issuer'>, string>>>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const UTF8_STRING = 0x0c;

function utf8Value(cert: Certificate, oid: string, name: string, raw = false): string | undefined {
  const value = cert.extensions.get(oid);
  if (value === undefined) return undefined;
  try {
    if (raw) return decoder.decode(value);
    const r = new DerReader(value);
    const text = decoder.decode(r.read(UTF8_STRING, name));
    if (!r.done) throw new Error('trailing bytes');
    return text;
  } catch (error) {
    throw new InTotoError('FORMAT', `the certificate's ${name} extension (${oid}) is not a UTF8String: ${(error as Error).message}`, { field: oid }, { cause: error });
  }
}

/** The signer identity a Fulcio certificate carries. Throws `FORMAT` for a malformed or contradictory extension. */
export function signerIdentity(cert: Certificate): SignerIdentity {
  const v1 = utf8Value(cert, FULCIO_OIDS.issuerV1, 'issuer (v1)', true);
  const v2 = utf8Value(cert, FULCIO_OIDS.issuer, 'issuer');
  if (v1 !== undefined && v2 !== undefined && v1 !== v2) {
    throw new InTotoError('FORMAT', `the certificate names two OIDC issuers: ${v1} (${FULCIO_OIDS.issuerV1}) and ${v2} (${FULCIO_OIDS.issuer})`, { field: FULCIO_OIDS.issuer });
  }
  const extensions: Record<string, string> = {};
  for (const [name, oid] of Object.entries(FULCIO_OIDS)) {
    if (name === 'issuerV1' || name === 'issuer') continue;
    const value = utf8Value(cert, oid, name, name.startsWith('github'));
    if (value !== undefined) extensions[name] = value;
  }
  const issuer = v2 ?? v1;
  return { uris: cert.uris, emails: cert.emails, ...(issuer !== undefined ? { issuer } : {}), extensions };
}

/** What a signer must be: its SAN (exactly, or by a regular expression matched whole) and OIDC issuer, and extensions. */
export interface IdentityPolicy {
  readonly san?: string;
  readonly sanPattern?: RegExp;
  readonly issuer?: string;
  readonly issuerPattern?: RegExp;
  /** Extensions that must have exactly these values (e.g. `sourceRepositoryURI`, `sourceRepositoryRef`). */
  readonly extensions?: Readonly<Partial<Record<Exclude<FulcioExtension, 'issuerV1' | 'issuer'>, string>>>;
}

const whole = (pattern: RegExp, value: string) => {
  const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(value);
  return m !== null && m.index === 0 && m[0].length === value.length;
};

/**
 * The ways `identity` falls short of `policy` (empty: it meets it). A policy must say who: a SAN or a SAN pattern,
 * and an issuer or an issuer pattern; one that does not is refused (`FORMAT`), as a policy of anyone.
 */
export function identityMismatches(identity: SignerIdentity, policy: IdentityPolicy): string[] {
  if ((policy.san === undefined && policy.sanPattern === undefined) || (policy.issuer === undefined && policy.issuerPattern === undefined)) {
    throw new InTotoError('FORMAT', 'an identity policy needs the signer (san or sanPattern) and its OIDC issuer (issuer or issuerPattern): without them anyone with a certificate would pass', { field: 'policy' });
  }
  const out: string[] = [];
  const sans = [...identity.uris, ...identity.emails];
  const sanOk = policy.san !== undefined ? sans.includes(policy.san) : sans.some((s) => whole(policy.sanPattern!, s));
  if (!sanOk) out.push(`the certificate's identity is ${sans.length > 0 ? sans.join(', ') : 'absent'}, not ${policy.san ?? `one matching ${policy.sanPattern}`}`);
  const issuerOk = identity.issuer !== undefined && (policy.issuer !== undefined ? identity.issuer === policy.issuer : whole(policy.issuerPattern!, identity.issuer));
  if (!issuerOk) out.push(`the certificate's OIDC issuer is ${identity.issuer ?? 'absent'}, not ${policy.issuer ?? `one matching ${policy.issuerPattern}`}`);
  for (const [name, expected] of Object.entries(policy.extensions ?? {})) {
    const found = identity.extensions[name as keyof SignerIdentity['extensions']];
    if (found !== expected) out.push(`the certificate's ${name} is ${found ?? 'absent'}, not ${expected}`);
  }
  return out;
}
