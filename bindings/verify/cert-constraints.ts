/**
 * in-toto-golang's certificate functionaries, enforced. A golang layout may carry fields in-toto 1.3.1 does not
 * know: `rootcas` and `intermediatecas` (maps of key id to a key dict whose `keyval.certificate` is a PEM
 * certificate) and, per step, `cert_constraints`. A link for such a step counts when it is signed by one of the
 * step's `pubkeys` (as everywhere), or else when its signature carries a certificate (`cert`) that
 *   1. chains to one of the layout's roots through its intermediates (`x509.ts`, at the verification time), and
 *   2. meets one of the step's constraints: its common name, DNS names, emails, organizations and URIs equal the
 *      constraint's as sets (a lone `*` allows anything; `""` and `[]` mean none), and the constraint's `roots`
 *      are `*` or exactly the ids of the layout's `rootcas` (golang compares them with every root id of the
 *      layout, not with the root the chain reached: we do the same, so a link golang refuses is refused here),
 * and its signature verifies with the certificate's key (golang `VerifyLinkSignatureThesholds`,
 * `CertificateConstraint.Check`).
 *
 * Stricter than golang: the map ids of `rootcas`/`intermediatecas` must be ids of the certificate's own key (as
 * for `keys`), and a constraint with a field we do not know is refused rather than ignored.
 */
import { InTotoError } from '../errors.js';
import { keyidCandidates, publicKeyFromSpkiDer, type PublicKey } from '../keys/keys.js';
import type { JsonObject, JsonValue, Layout } from '../metadata/models.js';
import { parseCertificatePem, verifyCertificateChain, type Certificate } from '../keys/x509.js';

/** One entry of a step's `cert_constraints`. */
export interface CertConstraint {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly emails: readonly string[];
  readonly organizations: readonly string[];
  readonly roots: readonly string[];
  readonly uris: readonly string[];
}

/** What a layout says about certificate functionaries. */
export interface LayoutCertificates {
  /** Root CAs by key id. */
  readonly roots: ReadonlyMap<string, Certificate>;
  readonly intermediates: ReadonlyMap<string, Certificate>;
  /** Constraints by step name; a step without any takes no certificate functionaries. */
  readonly constraints: ReadonlyMap<string, readonly CertConstraint[]>;
}

const CONSTRAINT_FIELDS: Readonly<Record<string, 'string' | 'list'>> = {
  common_name: 'string',
  dns_names: 'list',
  emails: 'list',
  organizations: 'list',
  roots: 'list',
  uris: 'list',
};

/** golang's `AllowAllConstraint`. */
const ANY = '*';

/**
 * Reads `rootcas`, `intermediatecas` and every step's `cert_constraints` from a (signed) layout. Throws a
 * `FORMAT` or `KEY` error naming the field when one cannot be read: a field that decides who may sign is
 * never skipped.
 */
export function readLayoutCertificates(layout: Layout): LayoutCertificates {
  const constraints = new Map<string, CertConstraint[]>();
  layout.steps.forEach((step, i) => {
    const value = step.extra.cert_constraints;
    if (value === undefined || value === null) return;
    const field = `steps[${i}].cert_constraints`;
    if (!Array.isArray(value)) throw formatError(field, 'must be a list of certificate constraints');
    const list = value.map((c, j) => readConstraint(c, `${field}[${j}]`, step.name));
    if (list.length > 0) constraints.set(step.name, list);
  });
  return {
    roots: readCertificateMap(layout.extra.rootcas, 'rootcas'),
    intermediates: readCertificateMap(layout.extra.intermediatecas, 'intermediatecas'),
    constraints,
  };
}

function readConstraint(value: JsonValue, field: string, step: string): CertConstraint {
  if (!isObject(value)) throw formatError(field, 'must be an object', step);
  for (const key of Object.keys(value)) {
    if (!(key in CONSTRAINT_FIELDS)) {
      throw formatError(`${field}.${key}`, `is not a certificate constraint field in-toto-golang defines (${Object.keys(CONSTRAINT_FIELDS).join(', ')}): refusing a constraint we cannot enforce`, step);
    }
  }
  const list = (name: string): string[] => {
    const v = value[name];
    // Go decodes a missing field or null as an empty list.
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw formatError(`${field}.${name}`, 'must be a list of strings', step);
    return v as string[];
  };
  const cn = value.common_name;
  if (cn !== undefined && cn !== null && typeof cn !== 'string') throw formatError(`${field}.common_name`, 'must be a string', step);
  return {
    commonName: typeof cn === 'string' ? cn : '',
    dnsNames: list('dns_names'),
    emails: list('emails'),
    organizations: list('organizations'),
    roots: list('roots'),
    uris: list('uris'),
  };
}

function readCertificateMap(value: JsonValue | undefined, field: string): Map<string, Certificate> {
  const out = new Map<string, Certificate>();
  if (value === undefined || value === null) return out;
  if (!isObject(value)) throw formatError(field, 'must be an object mapping key ids to certificate keys');
  for (const [keyid, entry] of Object.entries(value)) {
    const at = `${field}.${keyid}`;
    if (!isObject(entry) || !isObject(entry.keyval) || typeof entry.keyval.certificate !== 'string') {
      throw formatError(`${at}.keyval.certificate`, 'must be a PEM certificate');
    }
    if (entry.keyid !== undefined && entry.keyid !== keyid) throw formatError(`${at}.keyid`, `must equal the id the key is listed under`);
    let cert: Certificate;
    let key: PublicKey;
    try {
      cert = parseCertificatePem(entry.keyval.certificate);
      key = publicKeyFromSpkiDer(cert.spki);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      throw new InTotoError(error.code, `${at}: ${error.message}`, { field: `${at}.keyval.certificate`, keyid }, { cause: error });
    }
    if (!keyidCandidates(key).includes(keyid)) {
      throw new InTotoError('KEY', `${at}: the certificate's key has id ${key.keyid}, not ${keyid}`, { field: at, keyid });
    }
    out.set(keyid, cert);
  }
  return out;
}

/**
 * Checks that `cert` may act as a functionary for `step`: it chains to the layout's roots and meets at least
 * one of the step's constraints. Throws a `SIGNATURE` error listing, per constraint, what failed.
 */
export async function checkCertificateFunctionary(
  cert: Certificate,
  step: string,
  certs: LayoutCertificates,
  now: Date,
): Promise<void> {
  const constraints = certs.constraints.get(step) ?? [];
  if (constraints.length === 0) throw new InTotoError('SIGNATURE', `step '${step}' has no certificate constraints`, { step });
  // The chain does not depend on the constraint: check it once (golang checks it per constraint, to the same end).
  let trust: string | undefined;
  try {
    await verifyCertificateChain(cert, { roots: [...certs.roots.values()], intermediates: [...certs.intermediates.values()], now });
  } catch (error) {
    if (!(error instanceof InTotoError) || error.code !== 'SIGNATURE') throw error;
    trust = error.message;
  }
  const reasons: string[] = [];
  const rootIds = [...certs.roots.keys()];
  for (const [i, c] of constraints.entries()) {
    const problems = [
      checkAttribute('common name', c.commonName === '' ? [] : [c.commonName], cert.subjectName.commonName === '' ? [] : [cert.subjectName.commonName]),
      checkAttribute('DNS name', c.dnsNames, cert.dnsNames),
      checkAttribute('email', c.emails, cert.emails),
      checkAttribute('organization', c.organizations, cert.subjectName.organizations),
      trust ?? checkAttribute('root', c.roots, rootIds),
      checkAttribute('URI', c.uris, cert.uris),
    ].filter((p): p is string => p !== undefined);
    if (problems.length === 0) return;
    reasons.push(`constraint ${i + 1}: ${problems.join('; ')}`);
  }
  throw new InTotoError('SIGNATURE', `certificate '${cert.subjectName.text}' does not meet the certificate constraints of step '${step}' (${reasons.join(' | ')})`, { step });
}

/**
 * golang's `checkCertConstraint`: a lone `*` allows anything; otherwise every value of the certificate must be
 * one the constraint lists and every listed value must be met (sets, each value used once). `[""]` is `[]`.
 */
function checkAttribute(name: string, constraint: readonly string[], values: readonly string[]): string | undefined {
  if (constraint.length === 1 && constraint[0] === ANY) return undefined;
  const allowed = constraint.length === 1 && constraint[0] === '' ? [] : constraint;
  const have = values.length === 1 && values[0] === '' ? [] : values;
  if (allowed.length === 0 && have.length > 0) return `expects no ${name}, the certificate has ${have.map(quote).join(', ')}`;
  const unmet = new Set(allowed);
  for (const v of have) {
    if (!unmet.has(v)) return `${name} ${quote(v)} is not among ${allowed.map(quote).join(', ') || 'none'}`;
    unmet.delete(v);
  }
  if (unmet.size > 0) return `${name} ${[...unmet].map(quote).join(', ')} required but not in the certificate (${have.map(quote).join(', ') || 'none'})`;
  return undefined;
}

const quote = (s: string): string => JSON.stringify(s);

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function formatError(field: string, message: string, step?: string): InTotoError {
  return new InTotoError('FORMAT', `${field} ${message}`, { field, ...(step !== undefined ? { step } : {}) });
}
