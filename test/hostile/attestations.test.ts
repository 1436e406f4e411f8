/**
 * Hostile Statements: seeded mutants of a valid link attestation (bytes flipped, deleted, inserted; fields
 * removed or retyped). Reading never crashes (every refusal an InTotoError); a mutated payload under the original
 * signature never verifies; a mutant that still reads as a Statement keeps the meaning its bytes say.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readAttestation } from '../../bindings/attestation/envelope.js';
import { linkToStatement, readPredicate, statementToLink } from '../../bindings/attestation/predicates.js';
import { parseStatement } from '../../bindings/attestation/statement.js';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import type { PrivateKey } from '../../bindings/keys/keys.js';
import { createDsse, serializeEnvelope, signEnvelope, verifySignatureBy } from '../../bindings/metadata/envelope.js';
import { seededRandom as random } from '../helpers/random.js';

const MUTANTS = Number(process.env.HOSTILE_MUTANTS ?? 3000);


let key: PrivateKey;
let payload: Uint8Array;
let envelopeJson: Record<string, unknown>;
beforeAll(async () => {
  await initEngine();
  key = await generateKeyPair('ed25519');
  const statement = linkToStatement({
    _type: 'link',
    name: 'build',
    command: ['make', 'all'],
    materials: { 'src/main.c': { sha256: 'a'.repeat(64) } },
    products: { app: { sha256: 'b'.repeat(64) }, 'lib.so': { sha512: 'c'.repeat(128) } },
    byproducts: { 'return-value': 0 },
    environment: {},
  });
  const envelope = await signEnvelope(createDsse(statement), key);
  payload = envelope.payload;
  envelopeJson = JSON.parse(new TextDecoder().decode(serializeEnvelope(envelope)));
});

describe('hostile Statements', () => {
  it(`${MUTANTS} byte mutants: no crash, every refusal an InTotoError, and none verifies under the original signature`, async () => {
    const next = random(17);
    const outcomes = { read: 0, refused: 0 };
    for (let i = 0; i < MUTANTS; i++) {
      const bytes = [...payload];
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * bytes.length);
        const op = next();
        if (op < 0.4) bytes[at] = Math.floor(next() * 256);
        else if (op < 0.7) bytes.splice(at, 1);
        else bytes.splice(at, 0, '{}[]",:0.e-\\u'.charCodeAt(Math.floor(next() * 13)));
      }
      const mutant = new Uint8Array(bytes);
      if (mutant.length === payload.length && mutant.every((b, j) => b === payload[j])) continue;
      try {
        const statement = parseStatement(mutant);
        // What reads must be a Statement whose predicate and conversion either hold or fail with an InTotoError.
        try {
          readPredicate(statement);
          statementToLink(statement);
        } catch (error) {
          if (!(error instanceof InTotoError)) throw error;
        }
        outcomes.read++;
      } catch (error) {
        if (!(error instanceof InTotoError)) throw new Error(`mutant ${i} crashed: ${(error as Error).stack}`);
        outcomes.refused++;
      }
      // The original signature over a changed payload: never accepted.
      const b64 = Buffer.from(mutant).toString('base64');
      let envelope;
      try {
        envelope = readAttestation(JSON.stringify({ ...envelopeJson, payload: b64 })).envelope;
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        continue;
      }
      await expect(verifySignatureBy(envelope, key.publicKey)).rejects.toMatchObject({ code: 'SIGNATURE' });
    }
    expect(outcomes.refused).toBeGreaterThan(MUTANTS / 2);
  });

  it.each([
    ['a subject digest retyped to a number', (s: Record<string, any>) => (s.subject[0].digest.sha256 = 1)],
    ['the predicate name removed', (s: Record<string, any>) => delete s.predicate.name],
    ['materials as an object', (s: Record<string, any>) => (s.predicate.materials = {})],
    ['a subject name that is a number', (s: Record<string, any>) => (s.subject[0].name = 7)],
    ['__proto__ as an artifact name twice', (s: Record<string, any>) => (s.subject = [{ name: '__proto__', digest: { sha256: 'b'.repeat(64) } }, { name: '__proto__', digest: { sha256: 'c'.repeat(64) } }])],
  ])('%s: refused with FORMAT', (_name, edit) => {
    const statement = JSON.parse(new TextDecoder().decode(payload));
    edit(statement);
    let error: unknown;
    try {
      statementToLink(parseStatement(JSON.stringify(statement)));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InTotoError);
    expect((error as InTotoError).code).toBe('FORMAT');
  });
});
