// The comparison script of bench/sigstore.mjs: what a Node user writes with sigstore-js to check an npm package's
// attestations as `in-toto-npm verify-npm-package` does (both bundles verified by @sigstore/verify, the publish one
// with the registry's key, the provenance one with the workflow identity; one subject, the package's purl, with the
// tarball's sha512). Usage: node npm-sigstore-js.mjs sha512-<base64> ATTESTATIONS TRUSTED_ROOT REGISTRY_KEYS SOURCE_URI
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

const [integrity, attestationsPath, rootPath, keysPath, sourceUri] = process.argv.slice(2);
const sha512 = Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex');
const { attestations } = JSON.parse(readFileSync(attestationsPath, 'utf8'));
const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8')));
const keys = JSON.parse(readFileSync(keysPath, 'utf8')).keys.filter((k) => k.keyUsage === 'npm:attestations');
const keyFinder = (hint) => {
  const key = keys.find((k) => k.keyId === hint);
  if (!key) throw new Error(`no registry key ${hint}`);
  const start = Date.parse(key.publicKey.validFor.start);
  const end = key.publicKey.validFor.end ? Date.parse(key.publicKey.validFor.end) : Infinity;
  return { publicKey: createPublicKey({ key: Buffer.from(key.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' }), validFor: (date) => date.getTime() >= start && date.getTime() <= end };
};
let purl;
for (const { predicateType, bundle } of attestations) {
  const publish = predicateType.startsWith('https://github.com/npm/attestation');
  const verifier = new Verifier(toTrustMaterial(root, publish ? keyFinder : undefined), { tlogThreshold: 1, ctlogThreshold: publish ? 0 : 1, timestampThreshold: 1 });
  const parsed = bundleFromJSON(bundle);
  verifier.verify(toSignedEntity(parsed), publish ? undefined : { subjectAlternativeName: new RegExp(`^https://${sourceUri.replace(/[.]/g, '\\.')}/`), extensions: { issuer: 'https://token.actions.githubusercontent.com' } });
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
  if (statement.subject.length !== 1 || statement.subject[0].digest.sha512 !== sha512) throw new Error('subject');
  if (purl !== undefined && statement.subject[0].name !== purl) throw new Error('purl');
  purl = statement.subject[0].name;
}
console.error(`verified ${purl}`);
