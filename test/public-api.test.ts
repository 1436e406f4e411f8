/**
 * The package's public surface, as a consumer sees it: every export path in package.json's `exports` (each of
 * `.`'s conditions, `./link`, `./sigstore` and `./attestations`) resolved the way Node resolves it and imported from
 * `dist/`. Every name the README documents must be there, and the full list of runtime names per path is pinned, so that moving files
 * inside `bindings/` provably changes nothing a user can import. Type-only exports leave no runtime name; the
 * declaration file of each path must exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
};

// workerd's entry imports the engine as a compiled module (`import wasm from '...engine.wasm'`), which only
// workerd and bundlers understand; here it is stood in for, so that the entry's names can be listed.
vi.mock('../build/engine.wasm', () => ({ default: {} }));

type Target = { default: string; types: string };

/** What `exports[path]` resolves to under `condition` (else the default), as Node would pick it. */
function resolveExport(path: string, condition?: string): Target {
  const entry = pkg.exports[path] as Record<string, unknown>;
  const chosen = (condition !== undefined && entry[condition] !== undefined ? entry[condition] : entry) as Record<string, string>;
  return { default: chosen.default, types: chosen.types ?? (entry.types as string) };
}

/** The names the README documents, per export path (its examples, the library table, the recording paragraph). */
const DOCUMENTED_ROOT = [
  'initEngine', 'loadPublicKey', 'verify', 'canonicalize', 'parseJson', 'createEngine', 'loadPrivateKey',
  'publicKeyFromDict', 'keyToDict', 'keyToPublicFile', 'keyToPrivateFile', 'computeKeyid', 'computeNewKeyid',
  'keyidCandidates', 'generateKeyPair', 'signBytes', 'verifySignature', 'getBackend', 'readEnvelope',
  'verifyEnvelope', 'verifySignatureBy', 'createMetablock', 'createDsse', 'signEnvelope', 'serializeEnvelope',
  'parseLayout', 'parseLink', 'layoutToJSON', 'linkToJSON', 'substituteParameters', 'gpgKeyFromExport',
  'gpgKeyFromDict', 'gpgKeyToDict', 'verifyGpgSignature', 'InTotoError',
];
const DOCUMENTED_NODE = [...DOCUMENTED_ROOT, 'nodeInspectionRunner'];
const DOCUMENTED_LINK = ['runStep', 'recordStep', 'recordStart', 'recordStop', 'mockStep', 'matchProducts', 'signMetadata'];

/** Every runtime name of `in-toto-wasm` (the default condition), as it was before the regrouping of issue 15. */
const ROOT_NAMES = [
  'BACKENDS', 'Engine', 'IN_TOTO_PAYLOAD_TYPE', 'InTotoError', 'InspectionBuilder', 'LINT_CODES', 'LayoutBuilder',
  'StepBuilder', 'addPeriod', 'canonicalize', 'chainGraph', 'checkCertificateFunctionary', 'computeKeyid',
  'computeNewKeyid', 'createDsse', 'createEngine', 'createMetablock', 'dumpReferenceJson', 'formatExpires',
  'fromBase64', 'fromHex', 'generateKeyPair', 'getBackend', 'getEngine', 'gpgKeyFromDict', 'gpgKeyFromExport',
  'gpgKeyToDict', 'initEngine', 'isGpgKey', 'isOpenPgpKeyData', 'keyIds', 'keyToDict', 'keyToPrivateFile',
  'keyToPublicFile', 'keyidCandidates', 'layoutFromDescription', 'layoutToJSON', 'linkFileName', 'linkToJSON',
  'lintLayout', 'listUnknownFields', 'loadPrivateKey', 'loadPublicKey', 'loadVerificationKey', 'pae', 'parseCertificate',
  'parseCertificatePem', 'parseJson', 'parseLayout', 'parseLink', 'parsePeriod', 'parseRule', 'parseSigned',
  'publicKeyFromDict', 'publicKeyFromSpkiDer', 'readDsseEnvelope', 'readEnvelope', 'readExportedKeys',
  'readLayoutCertificates', 'renderChainSvg', 'rule', 'ruleToString', 'serializeEnvelope', 'shlexSplit',
  'signBytes', 'signEnvelope', 'signLayout', 'signatureFromPacket', 'sublayoutDirName', 'substituteParameters',
  'toBase64', 'toHex', 'toRule', 'verdictToSvg', 'verify', 'verifyCertificateChain', 'verifyDsse', 'verifyEnvelope',
  'verifyGpgSignature', 'verifySignature', 'verifySignatureBy',
  // Added since (issue 14: the failure cap; issue 17: in-toto attestations).
  'MAX_LISTED_FAILURES',
  'ACCEPTED_ALGORITHMS', 'JsonNumber', 'LINK_V03', 'NPM_PUBLISH_V01', 'SLSA_PROVENANCE_V02', 'SLSA_PROVENANCE_V1',
  'STATEMENT_PAYLOAD_TYPE', 'STATEMENT_V01', 'STATEMENT_V1', 'TEST_RESULT_V01', 'VSA_V1', 'createStatement',
  'digestsMatch', 'isStatementPayloadType', 'linkToStatement', 'matchingSubjects', 'parseOrdinaryJson',
  'parseStatement', 'readAttestation', 'readAttestationBundle', 'readDigestSet', 'readPredicate',
  'readResourceDescriptor', 'readStatement', 'statementToLink',
].sort();
/** issue 18: Sigstore bundles. */
const SIGSTORE_NAMES = [
  'FULCIO_OIDS', 'auditPackages', 'identityMismatches', 'isValidAt', 'isVersionedTag', 'readAuditPolicy', 'readCheckpoint',
  'readLockfile', 'readNpmAttestations', 'readNpmRegistryKeys', 'verifyRegistrySignature',
  'readScts', 'readSigstoreBundle', 'readTimestamp', 'verifyNpmPackage',
  'readTrustedRoot', 'signerIdentity', 'verifyInclusion', 'verifyScts', 'verifySignedEntryTimestamp',
  'verifySigstoreBundle', 'verifyTimestamp',
].sort();
const DOCUMENTED_SIGSTORE = ['verifySigstoreBundle', 'readSigstoreBundle', 'readTrustedRoot'];
/** issue 19: attestation layouts, CEL and VSAs, as one path in every runtime (what the path's header promises). */
const ATTESTATIONS_NAMES = ['checkVsa', 'createVsa', 'evaluateCel', 'evaluateCelMany', 'readAttestationLayout', 'signVsa', 'verifyAttestationLayout', 'verifyVsa'].sort();
const DOCUMENTED_ATTESTATIONS = ['verifyAttestationLayout', 'readAttestationLayout', 'evaluateCel', 'evaluateCelMany', 'createVsa', 'signVsa', 'verifyVsa', 'checkVsa'];
const LINK_NAMES = [
  'gpgExportKey', 'gpgExportKeys', 'gpgSigner', 'matchProducts', 'mockStep', 'recordStart', 'recordStep', 'recordStop',
  'resignMetadata', 'runStep', 'signMetadata', 'unfinishedLinkFileName', 'writeFileAtomic', 'writeMetadataFile',
];

const PATHS: { label: string; path: string; condition?: string; documented: string[]; names: string[] }[] = [
  { label: 'in-toto-wasm (default)', path: '.', documented: DOCUMENTED_ROOT, names: ROOT_NAMES },
  { label: 'in-toto-wasm (node)', path: '.', condition: 'node', documented: DOCUMENTED_NODE, names: [...ROOT_NAMES, 'nodeInspectionRunner'] },
  { label: 'in-toto-wasm (deno)', path: '.', condition: 'deno', documented: DOCUMENTED_ROOT, names: ROOT_NAMES },
  { label: 'in-toto-wasm (browser)', path: '.', condition: 'browser', documented: DOCUMENTED_ROOT, names: ROOT_NAMES },
  { label: 'in-toto-wasm (workerd)', path: '.', condition: 'workerd', documented: DOCUMENTED_ROOT, names: ROOT_NAMES },
  { label: 'in-toto-wasm/link', path: './link', documented: DOCUMENTED_LINK, names: LINK_NAMES },
  { label: 'in-toto-wasm/sigstore', path: './sigstore', documented: DOCUMENTED_SIGSTORE, names: SIGSTORE_NAMES },
  { label: 'in-toto-wasm/attestations', path: './attestations', documented: DOCUMENTED_ATTESTATIONS, names: ATTESTATIONS_NAMES },
];

describe('public API', () => {
  it('the export paths keep their names', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './attestations', './engine.wasm', './link', './package.json', './sigstore']);
    expect(Object.keys(pkg.exports['.'] as object)).toEqual(['workerd', 'deno', 'browser', 'node', 'types', 'default']);
    expect(existsSync(join(root, (pkg.exports['./engine.wasm'] as string)))).toBe(true);
  });

  for (const { label, path, condition, documented, names } of PATHS) {
    it(`${label}: every documented name, and exactly the names it had`, async () => {
      const target = resolveExport(path, condition);
      expect(existsSync(join(root, target.types)), target.types).toBe(true);
      const module = (await import(join(root, target.default))) as Record<string, unknown>;
      for (const name of documented) expect(module[name], `${label} exports ${name}`).toBeDefined();
      expect(Object.keys(module).sort()).toEqual([...names].sort());
    });
  }

  it('every bin the package names exists', () => {
    for (const [name, file] of Object.entries(pkg.bin)) expect(existsSync(join(root, file)), name).toBe(true);
  });
});
