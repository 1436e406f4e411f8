/**
 * `in-toto-wasm/attestations`: attestation layouts (docs/attestation-layouts.md), the engine's CEL (docs/cel.md) and
 * SLSA Verification Summary Attestations, in every runtime. A path of its own, as `in-toto-wasm/sigstore` is: the
 * attestation-layout verifier brings the YAML reader and the Sigstore verifier, which the classic verifier does not need.
 * It lives in the verify wing, the lowest one that may import both the attestation and the sigstore wings.
 *
 *   const verdict = await verifyAttestationLayout({ layout, layoutKeys: [owner], attestations: new Map([['build.1a2b3c4d.json', bytes]]) });
 *   evaluateCel('predicate.buildType.startsWith("https://")', { predicate: { json: statement.predicate } });
 *   const vsa = await signVsa(createVsa({ verifierId, timeVerified: new Date(), resourceUri, subject, policy, inputs, passed: verdict.passed }), key);
 */
export {
  verifyAttestationLayout, readAttestationLayout,
  type AttestationVerifyOptions, type AttestationVerdict, type AttestationFailure, type AttestationLayout, type AttestationStep,
  type ExpectedPredicate, type ExpectedAttribute, type Functionary, type Artifacts, type AttestationSubject,
} from './attestation-layout.js';
export { evaluateCel, evaluateCelMany, type CelValue, type CelVariable, type CelResult } from '../attestation/cel.js';
export { createVsa, signVsa, verifyVsa, checkVsa, type VsaInput, type VsaExpectations } from '../attestation/vsa.js';
