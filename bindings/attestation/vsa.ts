/**
 * SLSA Verification Summary Attestations (VSA v1, https://slsa.dev/verification_summary/v1): written after a
 * verification, pass or fail, and checked as slsa-verifier's `verify-vsa` checks one (signature by the key, subject
 * digest, verifier id, resource URI, levels, PASSED).
 *
 * A VSA we write is deterministic: the same inputs and `timeVerified` give the same bytes (the Statement's keys are
 * sorted, its lists in a fixed order; Ed25519 signs deterministically, while ECDSA and RSA-PSS signatures differ per
 * signing over the same payload). The policy descriptor's annotations say who signed the layout
 * (`layoutSignedBy`: key ids; empty for a layout verified with `allowUnsignedLayout`).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../encoding.js';
import { InTotoError } from '../errors.js';
import type { PrivateKey, PublicKey } from '../keys/keys.js';
import { createDsse, serializeEnvelope, signEnvelope, verifyDsse } from '../metadata/envelope.js';
import { readAttestation } from './envelope.js';
import { readPredicate, VSA_V1, type VsaV1 } from './predicates.js';
import { createStatement, digestsMatch, type DigestSet, type ResourceDescriptor, type Statement } from './statement.js';

export interface VsaInput {
  /** Who verified: a URI naming the verifier (and `version`, e.g. `{ "in-toto-wasm": "0.1.0" }`). */
  readonly verifierId: string;
  readonly verifierVersion?: Readonly<Record<string, string>>;
  readonly timeVerified: Date;
  /** What was verified, as the consumer names it (e.g. `pkg:npm/app@1.0.0`, a container image's name). */
  readonly resourceUri: string;
  /** The artifacts the summary is about (at least one, each with a digest). */
  readonly subject: readonly ResourceDescriptor[];
  /** The policy (layout) file: its name or URI and its bytes (digested here), and the keys that signed it. */
  readonly policy: { readonly uri: string; readonly bytes: Uint8Array; readonly signedBy: readonly string[] };
  /** Every input read: file name and bytes (digested here), or its digests when the bytes are gone. */
  readonly inputs: readonly ({ readonly name: string; readonly bytes: Uint8Array } | { readonly name: string; readonly digest: DigestSet })[];
  readonly passed: boolean;
  /** Levels claimed when passed (e.g. `SLSA_BUILD_LEVEL_2`); a failed verification claims none. */
  readonly verifiedLevels?: readonly string[];
}

const digestOf = (bytes: Uint8Array): DigestSet => ({ sha256: toHex(sha256(bytes)) });

/** The VSA Statement for a verification (an object: sign it with `signVsa`). */
export function createVsa(input: VsaInput): Record<string, unknown> {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(input.verifierId)) throw new InTotoError('FORMAT', `the verifier id must be a URI, not "${input.verifierId}"`, { field: 'verifier.id' });
  if (input.resourceUri === '') throw new InTotoError('FORMAT', 'the resource URI must not be empty', { field: 'resourceUri' });
  if (Number.isNaN(input.timeVerified.getTime())) throw new InTotoError('FORMAT', 'the verification time is not a time', { field: 'timeVerified' });
  for (const level of input.verifiedLevels ?? []) trackLevel(level, 'verifiedLevels');
  const inputs = [...input.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return createStatement({
    subject: input.subject,
    predicateType: VSA_V1,
    predicate: {
      verifier: { id: input.verifierId, ...(input.verifierVersion ? { version: { ...input.verifierVersion } } : {}) },
      timeVerified: input.timeVerified.toISOString().replace('.000Z', 'Z'),
      resourceUri: input.resourceUri,
      policy: { uri: input.policy.uri, digest: digestOf(input.policy.bytes), annotations: { layoutSignedBy: [...input.policy.signedBy].sort() } },
      inputAttestations: inputs.map((i) => ({ name: i.name, digest: 'bytes' in i ? digestOf(i.bytes) : { ...i.digest } })),
      verificationResult: input.passed ? 'PASSED' : 'FAILED',
      verifiedLevels: input.passed ? [...(input.verifiedLevels ?? [])] : [],
    },
  });
}

/** The VSA Statement signed by `key`, as DSSE envelope bytes. */
export async function signVsa(statement: Record<string, unknown>, key: PrivateKey): Promise<Uint8Array> {
  return serializeEnvelope(await signEnvelope(createDsse(statement), key));
}

export interface VsaExpectations {
  /** At least one subject must carry one of these digests (slsa-verifier's --subject-digest, `sha256:<hex>`). */
  readonly subjectDigests: readonly DigestSet[];
  readonly verifierId: string;
  readonly resourceUri: string;
  /** Levels the VSA must claim; `SLSA_BUILD_LEVEL_3` also stands for levels 0-2 of the build track. */
  readonly verifiedLevels?: readonly string[];
}

/** SLSA's tracks and their highest level (SLSA 1.1: build L0-L3, source L1-L4); `SLSA_` names nothing else. */
const TRACKS: Readonly<Record<string, { min: number; max: number }>> = { BUILD: { min: 0, max: 3 }, SOURCE: { min: 1, max: 4 } };

/** `SLSA_<TRACK>_LEVEL_<n>` of a known track (levels are cumulative within it); throws for other `SLSA_` names. */
function trackLevel(level: string, field: string): { track: string; n: number } | undefined {
  if (!level.startsWith('SLSA_')) return undefined;
  const m = /^SLSA_([A-Z]+)_LEVEL_(\d)$/.exec(level);
  const track = m ? TRACKS[m[1]!] : undefined;
  if (!m || !track || Number(m[2]) < track.min || Number(m[2]) > track.max) throw new InTotoError('FORMAT', `${level} is no SLSA level (SLSA_BUILD_LEVEL_0-3, SLSA_SOURCE_LEVEL_1-4; other levels must not start with SLSA_)`, { field });
  return { track: m[1]!, n: Number(m[2]) };
}

const fail = (message: string, field?: string) => new InTotoError('SIGNATURE', `VSA: ${message}`, field ? { field } : {});

/**
 * Verifies a VSA (a DSSE envelope of its Statement) signed by one of `keys`, against the expectations; returns the
 * Statement and its predicate, or throws `SIGNATURE` (or `FORMAT`) naming what did not hold.
 */
export async function verifyVsa(bytes: Uint8Array, keys: readonly PublicKey[], expect: VsaExpectations): Promise<{ statement: Statement; vsa: VsaV1 }> {
  if (keys.length === 0) throw new InTotoError('KEY', 'VSA: give the key it must be signed by');
  const { envelope, statement } = readAttestation(bytes);
  // DSSE's keyid is optional: any signature one of the keys verifies counts.
  const problems: string[] = [];
  for (const key of keys) {
    try {
      await verifyDsse(envelope, [key]);
      problems.length = 0;
      break;
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw fail(`not signed by the key given (${problems.join('; ')})`);
  return { statement, vsa: checkVsa(statement, expect) };
}

/**
 * Checks a VSA Statement whose signature is already verified (e.g. the Statement of a Sigstore bundle verified for
 * its signer) against the expectations, as `verifyVsa` does after the signature; returns its predicate or throws.
 */
export function checkVsa(statement: Statement, expect: VsaExpectations): VsaV1 {
  if (statement.predicateType !== VSA_V1) throw fail(`the Statement is a ${statement.predicateType}, not a VSA (${VSA_V1})`, 'predicateType');
  const predicate = readPredicate(statement);
  if (predicate.kind !== 'vsa-v1') throw fail('not a VSA predicate', 'predicate');
  const vsa = predicate.value;
  if (!statement.subject.some((s) => s.digest !== undefined && expect.subjectDigests.some((d) => digestsMatch(d, s.digest!)))) {
    throw fail(`no subject has the digest ${expect.subjectDigests.map((d) => Object.entries(d).map(([a, v]) => `${a}:${v}`).join(',')).join(' or ')}`, 'subject');
  }
  if (vsa.verifier.id !== expect.verifierId) throw fail(`the verifier is ${vsa.verifier.id}, not ${expect.verifierId}`, 'predicate.verifier.id');
  if (vsa.resourceUri !== expect.resourceUri) throw fail(`the resource is ${vsa.resourceUri}, not ${expect.resourceUri}`, 'predicate.resourceUri');
  if (vsa.verificationResult !== 'PASSED') throw fail(`the verification result is ${vsa.verificationResult}`, 'predicate.verificationResult');
  for (const level of expect.verifiedLevels ?? []) {
    const want = trackLevel(level, 'verifiedLevels');
    const ok = vsa.verifiedLevels.some((have) => {
      let got;
      try {
        got = trackLevel(have, 'predicate.verifiedLevels');
      } catch {
        return false; // an SLSA_ name no track has stands for nothing
      }
      if (have === level) return true;
      return want !== undefined && got !== undefined && got.track === want.track && got.n >= want.n;
    });
    if (!ok) throw fail(`the levels verified are ${JSON.stringify(vsa.verifiedLevels)}, not ${level}`, 'predicate.verifiedLevels');
  }
  return vsa;
}
