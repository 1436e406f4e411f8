/**
 * `in-toto-wasm/sigstore`: Sigstore bundles verified offline in every runtime (docs/sigstore.md). A path of its own,
 * so that the classic verifier does not carry the Sigstore code and its curve library.
 *
 *   const verified = await verifySigstoreBundle(readSigstoreBundle(bundleJson), readTrustedRoot(rootJson),
 *     { bytes: artifact }, { identity: { san: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' } });
 */
export { readSigstoreBundle, type SigstoreBundle, type TlogEntry, type BundleContent, type VerificationMaterial } from './bundle.js';
export { readTrustedRoot, isValidAt, type TrustedRoot, type TransparencyLog, type CertificateAuthority, type ValidFor } from './trusted-root.js';
export { verifySigstoreBundle, type Artifact, type SignerPolicy, type VerifiedBundle } from './verify-bundle.js';
export { signerIdentity, identityMismatches, FULCIO_OIDS, type SignerIdentity, type IdentityPolicy, type FulcioExtension } from './identity.js';
export { readTimestamp, verifyTimestamp, type TimestampToken } from './timestamp.js';
export { readScts, verifyScts, type Sct } from './sct.js';
export { verifyInclusion, verifySignedEntryTimestamp, readCheckpoint, type Checkpoint } from './tlog.js';
export { readNpmRegistryKeys, readNpmAttestations, verifyNpmPackage, type NpmRegistryKey, type NpmAttestations, type NpmExpectations, type NpmVerified } from './npm.js';
export { verifyRegistrySignature, isVersionedTag, type NpmDist } from './npm.js';
export { auditPackages, readLockfile, readAuditPolicy, type AuditEntry, type AuditPolicy, type AuditRule, type AuditOptions, type LockedPackage } from './npm-audit.js';
