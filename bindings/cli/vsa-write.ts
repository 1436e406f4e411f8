/**
 * Writing the signed SLSA VSA that `--vsa` asks for (vsa-output.ts reads the flags): the subject, the policy and
 * inputs digested, signed with the `--vsa-key`.
 */
import { rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { createVsa, signVsa, type VsaInput } from '../attestation/vsa.js';
import type { ResourceDescriptor } from '../attestation/statement.js';
import { toHex } from '../encoding.js';
import { InTotoError } from '../errors.js';
import type { PrivateKey } from '../keys/keys.js';
import { loadSigningKey, VERSION } from './common.js';
import type { VsaRequest } from './vsa-output.js';

/** The VSA's signing key, loaded before anything is verified: a wrong key file is a usage problem, not a verdict. */
export function loadVsaKey(request: VsaRequest): Promise<PrivateKey> {
  return loadSigningKey(request.keyPath, request.keyType, undefined);
}

export interface VsaVerdict {
  readonly passed: boolean;
  readonly timeVerified: Date;
  /** What passed: the chain's final products (a pass needs some). A failure's subject is the layout. */
  readonly products: readonly ResourceDescriptor[];
  readonly layoutPath: string;
  readonly layoutBytes: Uint8Array;
  readonly layoutSignedBy: readonly string[];
  readonly inputs: VsaInput['inputs'];
}

/**
 * Removes what `--vsa` names before anything is verified: a VSA left from an earlier run must not outlive a run that
 * could not write its own (a PASSED summary would then stand for a failed verification).
 */
export async function removeOldVsa(request: VsaRequest): Promise<void> {
  await rm(request.path, { force: true }).catch((error: Error) => {
    throw new InTotoError('IO', `cannot replace ${request.path} (--vsa): ${error.message}`, { path: request.path });
  });
}

/** Writes the signed VSA of `verdict`; throws `InTotoError` when it cannot be made or written. */
export async function writeVsa(request: VsaRequest, key: PrivateKey, verdict: VsaVerdict): Promise<void> {
  // A PASSED VSA is about what the chain made; a chain that made nothing has nothing to vouch for (the layout is no
  // product). A FAILED one is about the layout that was not met.
  if (verdict.passed && verdict.products.length === 0) {
    throw new InTotoError('FORMAT', 'verification passed, but the chain records no products: a VSA says which artifacts passed, and there are none (no VSA written)');
  }
  const subject = verdict.passed ? verdict.products : [{ name: basename(verdict.layoutPath), digest: { sha256: toHex(sha256(verdict.layoutBytes)) } }];
  const statement = createVsa({
    verifierId: request.verifierId,
    verifierVersion: { 'in-toto-wasm': VERSION },
    timeVerified: verdict.timeVerified,
    resourceUri: request.resourceUri,
    subject,
    policy: { uri: basename(verdict.layoutPath), bytes: verdict.layoutBytes, signedBy: verdict.layoutSignedBy },
    inputs: verdict.inputs,
    passed: verdict.passed,
    verifiedLevels: request.levels,
  });
  const bytes = await signVsa(statement, key);
  await writeFile(request.path, bytes).catch((error: Error) => {
    throw new InTotoError('IO', `cannot write the VSA to ${request.path}: ${error.message}`, { path: request.path });
  });
}
