/**
 * Sigstore bundles made here, for tests that need one verified end to end without Sigstore's services: a log of our
 * own (an ECDSA P-256 key in a trusted root of our own), and v0.1 bundles of a DSSE envelope signed with a key,
 * logged as a `dsse` 0.0.1 entry with a signed entry timestamp (the log's promise; v0.1 needs no inclusion proof).
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { pae } from '../../bindings/encoding.js';

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');

export interface TestLog {
  /** The trusted root (JSON) that knows this log and nothing else. */
  readonly trustedRoot: string;
  readonly privateKey: KeyObject;
  readonly logId: Buffer;
}

/** A transparency log of our own and the trusted root naming it (valid from 2020 on). */
export function makeTestLog(): TestLog {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const logId = createHash('sha256').update(spki).digest();
  const trustedRoot = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ baseUrl: 'https://log.test', hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } }, logId: { keyId: b64(logId) } }],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  });
  return { trustedRoot, privateKey, logId };
}

/** An ECDSA P-256 signer: its private key and its public key as PEM (what `--public-key-path` reads). */
export function makeBundleSigner(): { privateKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export interface BundleOptions {
  /** Seconds since 1970 the log says it integrated the entry (default: 2026-01-01). */
  readonly integratedTime?: number;
  readonly payloadType?: string;
}

/**
 * A v0.1 Sigstore bundle (JSON) of `statement` in a DSSE envelope signed by `signer`, logged in `log`. Returns the
 * bundle as an object, for tests to change before serializing.
 */
export function makeKeyBundle(statement: unknown, signer: { privateKey: KeyObject }, log: TestLog, options: BundleOptions = {}): Record<string, any> {
  const payloadType = options.payloadType ?? 'application/vnd.in-toto+json';
  const payload = Buffer.from(JSON.stringify(statement));
  const signature = sign('sha256', pae(payloadType, payload), signer.privateKey);
  const publicPem = createPublicKey(signer.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const body = Buffer.from(JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update('envelope').digest('hex') },
      payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') },
      signatures: [{ signature: b64(signature), verifier: b64(publicPem) }],
    },
  }));
  const integratedTime = options.integratedTime ?? 1767225600;
  const logIndex = 7;
  // The log's promise: its signature over the canonical JSON of the entry's body, time, log id and index.
  const promised = `{"body":"${b64(body)}","integratedTime":${integratedTime},"logID":"${log.logId.toString('hex')}","logIndex":${logIndex}}`;
  const set = sign('sha256', Buffer.from(promised), log.privateKey);
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      publicKey: { hint: 'test' },
      tlogEntries: [{
        logIndex: String(logIndex),
        logId: { keyId: b64(log.logId) },
        kindVersion: { kind: 'dsse', version: '0.0.1' },
        integratedTime: String(integratedTime),
        inclusionPromise: { signedEntryTimestamp: b64(set) },
        canonicalizedBody: b64(body),
      }],
    },
    dsseEnvelope: { payload: b64(payload), payloadType, signatures: [{ sig: b64(signature), keyid: '' }] },
  };
}
