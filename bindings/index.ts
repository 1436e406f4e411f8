// The package's public API. Only re-exports, each by name: what is not listed here is internal.
// bindings/ has one wing (folder) per concern, imports flowing one way, lowest first: the root (engine, errors,
// encoding, bigint) < keys/ < metadata/ < verify/ < record/, layout/ < cli/ and this file < entry/. Each wing's
// main file says what it owns; test/architecture.test.ts holds the tree to the order.

export { InTotoError, type ErrorCode, type ErrorDetail } from './errors.js';
export {
  canonicalize, parseJson, initEngine, getEngine, createEngine, Engine,
  type EngineLimits, type EngineSource, type Select,
} from './engine.js';
export {
  loadPublicKey, publicKeyFromDict, keyToDict, keyToPublicFile, keyToPrivateFile,
  computeKeyid, computeNewKeyid, keyidCandidates, keyIds, publicKeyFromSpkiDer,
  type KeyIds, type HashName, type KeyType, type Scheme, type PublicKey, type PrivateKey, type KeyDict, type LoadOptions, type LoadPrivateOptions,
} from './keys/keys.js';
export { loadPrivateKey } from './keys/load-private-key.js';
export { verify as verifySignature, sign as signBytes, generateKeyPair, getBackend, BACKENDS, type BackendName, type CryptoBackend } from './keys/crypto/index.js';
export {
  readEnvelope, verifyEnvelope, verifySignatureBy, createMetablock, createDsse, signEnvelope, serializeEnvelope, IN_TOTO_PAYLOAD_TYPE,
  readDsseEnvelope, verifyDsse, type RawDsseEnvelope,
  type Envelope, type Metablock, type DsseEnvelope, type SignatureEntry, type VerificationKey,
} from './metadata/envelope.js';
export { loadVerificationKey, isOpenPgpKeyData, type LoadVerificationKeyOptions } from './keys/verification-key.js';
export { pae, toHex, fromHex, toBase64, fromBase64 } from './encoding.js';
export { dumpReferenceJson } from './metadata/reference-json.js';
export {
  parseLayout, parseLink, parseSigned, layoutToJSON, linkToJSON, substituteParameters, listUnknownFields,
  type Layout, type Step, type Inspection, type Link, type Artifacts, type DigestSet,
  type LayoutJSON, type StepJSON, type InspectionJSON, type LinkJSON,
} from './metadata/models.js';
export { parseRule, ruleToString, type ArtifactRule, type MatchRule, type GenericRule, type RequireRule } from './metadata/rules.js';
export { linkFileName, sublayoutDirName, type LinkSource, type LinkLoader } from './verify/link-source.js';
export {
  verify, type VerifyOptions, type Verdict, type Failure, type VerdictWarning, type DigestMismatch,
  type InspectionPolicy, type InspectionRunner, type InspectionOrigin, MAX_LISTED_FAILURES,
} from './verify/verify.js';
export {
  LayoutBuilder, StepBuilder, InspectionBuilder, rule, toRule, shlexSplit, parsePeriod, addPeriod, formatExpires,
  signLayout, layoutFromDescription,
  type RuleInput, type MatchOptions, type Period, type Functionary, type LayoutBuilderOptions, type SignLayoutOptions,
  type LayoutDescription, type StepDescription, type InspectionDescription, type KeyReference, type DescriptionOptions,
  type DescribedLayout,
} from './layout/layout-builder.js';
export { lintLayout, LINT_CODES, type LintCode, type LintSeverity, type LintFinding, type LintOptions } from './layout/lint.js';
export {
  chainGraph, renderChainSvg, verdictToSvg,
  type ChainGraph, type GraphNode, type GraphEdge, type GraphRule, type GraphEdgeRule, type GraphOptions, type NodeStatus,
} from './layout/graph.js';
export { parseCertificate, parseCertificatePem, verifyCertificateChain, type Certificate } from './keys/x509.js';
export {
  gpgKeyFromExport, gpgKeyFromDict, gpgKeyToDict, readExportedKeys, isGpgKey,
  type GpgPublicKey, type GpgKeyDict,
} from './keys/openpgp/key.js';
export { verifyGpgSignature, signatureFromPacket, type GpgSignature } from './keys/openpgp/signature.js';
export { readLayoutCertificates, checkCertificateFunctionary } from './verify/cert-constraints.js';
export {
  readStatement, parseStatement, readResourceDescriptor, readDigestSet, digestsMatch, matchingSubjects, createStatement,
  isStatementPayloadType, ACCEPTED_ALGORITHMS, STATEMENT_V1, STATEMENT_V01, STATEMENT_PAYLOAD_TYPE,
  type Statement, type ResourceDescriptor, type StatementInput,
} from './attestation/statement.js';
export {
  readPredicate, statementToLink, linkToStatement, LINK_V03, SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02, NPM_PUBLISH_V01,
  TEST_RESULT_V01, VSA_V1,
  type Predicate, type LinkPredicate, type SlsaProvenanceV1, type SlsaProvenanceV02, type NpmPublishV01, type TestResultV01, type VsaV1,
} from './attestation/predicates.js';
export { readAttestation, readAttestationBundle, type Attestation, type BundleLine } from './attestation/envelope.js';
export { parseOrdinaryJson, JsonNumber } from './attestation/json.js';
