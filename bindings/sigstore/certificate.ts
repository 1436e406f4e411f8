/**
 * A Fulcio signing certificate's chain: to a certificate authority of the trusted root that was valid at the signing
 * time, every certificate valid then and allowed to sign code (Go's extended-key-usage rule, with code signing).
 */
import { EKU, parseCertificate, verifyCertificateChain, type Certificate } from '../keys/x509.js';
import { InTotoError } from '../errors.js';
import { isValidAt, type TrustedRoot } from './trusted-root.js';

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies `leaf`'s chain to the trusted root's certificate authorities valid at `time` (ms): each authority's
 * listed certificates, its self-signed one a root, the others intermediates. Returns the chain, leaf first; throws
 * `SIGNATURE` saying why none holds.
 */
export async function verifyFulcioChain(leaf: Certificate, root: TrustedRoot, time: number): Promise<Certificate[]> {
  // Fulcio issues end-entity certificates: a CA certificate is no signer's (Go's verifier does not refuse it; we do).
  if (leaf.basicConstraints?.ca) throw new InTotoError('SIGNATURE', 'the signing certificate is a CA certificate, not a signer\'s');
  const authorities = root.certificateAuthorities.filter((ca) => isValidAt(ca.validFor, time));
  if (authorities.length === 0) {
    throw new InTotoError('SIGNATURE', `no certificate authority of the trusted root was valid at ${new Date(time).toISOString()}, the signing time`);
  }
  const certificates = authorities.flatMap((ca) => ca.chain.map((der) => parseCertificate(der)));
  const roots = certificates.filter((c) => sameBytes(c.issuer, c.subject));
  const intermediates = certificates.filter((c) => !roots.includes(c));
  return verifyCertificateChain(leaf, { roots, intermediates, now: new Date(time), extKeyUsage: EKU.codeSigning });
}
