/**
 * The Sigstore readers (issue 18, first part): bundles and trusted roots read strictly, each refusal a FORMAT or
 * JSON error naming the field. Synthetic documents (structure only: nothing here is verified); the conformance
 * suite's own bundles are read by test/interop/sigstore-vectors.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { readSigstoreBundle } from '../../bindings/sigstore/bundle.js';
import { isValidAt, readTrustedRoot } from '../../bindings/sigstore/trusted-root.js';

const B64 = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i)).toString('base64');
const bundle = (edit: (b: Record<string, any>) => void = () => {}) => {
  const b: Record<string, any> = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: B64(40) },
      tlogEntries: [{
        logIndex: '7', logId: { keyId: B64(32) }, kindVersion: { kind: 'hashedrekord', version: '0.0.1' }, integratedTime: '1710869186',
        inclusionPromise: { signedEntryTimestamp: B64(70) },
        inclusionProof: { logIndex: '5', rootHash: B64(32), treeSize: '9', hashes: [B64(32)], checkpoint: { envelope: 'rekor.sigstore.dev - 1\n9\nabc=\n' } },
        canonicalizedBody: B64(100),
      }],
    },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: B64(32) }, signature: B64(70) },
  };
  edit(b);
  return JSON.stringify(b);
};
const refused = (read: () => unknown) => {
  try {
    read();
  } catch (error) {
    return { code: (error as { code?: string }).code, field: (error as { field?: string }).field };
  }
  return undefined;
};

beforeAll(async () => {
  await initEngine();
});

describe('Sigstore bundles', () => {
  it('reads a v0.3 bundle: material, log entry (int64 strings), content', () => {
    const b = readSigstoreBundle(bundle());
    expect(b.version).toBe('0.3');
    expect(b.material).toMatchObject({ kind: 'certificate', chain: [] });
    expect(b.tlogEntries[0]).toMatchObject({ logIndex: 7n, integratedTime: 1710869186n, kind: 'hashedrekord' });
    expect(b.tlogEntries[0]!.inclusionProof!.treeSize).toBe(9n);
    expect(b.content.kind).toBe('messageSignature');
  });

  it('reads the v0.1/v0.2 chain form, a public-key hint, a DSSE envelope, numbers for int64, null as unset, wrapped base64', () => {
    const chain = readSigstoreBundle(bundle((b) => {
      b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
      b.verificationMaterial.x509CertificateChain = { certificates: [{ rawBytes: B64(40) }, { rawBytes: B64(41) }] };
      delete b.verificationMaterial.certificate;
      b.verificationMaterial.tlogEntries[0].logIndex = 7;
      b.verificationMaterial.tlogEntries[0].inclusionPromise = null;
    }));
    expect(chain.material).toMatchObject({ kind: 'certificate', chain: [expect.any(Uint8Array)] });
    expect(chain.tlogEntries[0]!.inclusionPromise).toBeUndefined();
    const dsse = readSigstoreBundle(bundle((b) => {
      b.verificationMaterial.publicKey = { hint: 'k1' };
      delete b.verificationMaterial.certificate;
      delete b.messageSignature;
      b.dsseEnvelope = { payload: B64(10), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: `${B64(30).slice(0, 20)}\n${B64(30).slice(20)}` }] };
    }));
    expect(dsse.material).toEqual({ kind: 'publicKey', hint: 'k1' });
    expect(dsse.content).toMatchObject({ kind: 'dsse', signatures: [{ keyid: '' }] });
  });

  it.each([
    ['an unknown media type', (b: Record<string, any>) => (b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.9'), 'mediaType'],
    ['both content kinds', (b: Record<string, any>) => (b.dsseEnvelope = { payload: '', payloadType: 'x', signatures: [] }), 'content'],
    ['no content', (b: Record<string, any>) => delete b.messageSignature, 'content'],
    ['an empty certificate chain', (b: Record<string, any>) => { delete b.verificationMaterial.certificate; b.verificationMaterial.x509CertificateChain = { certificates: [] }; }, 'verificationMaterial.x509CertificateChain.certificates'],
    ['a single certificate in a v0.1 bundle', (b: Record<string, any>) => (b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1'), 'verificationMaterial.certificate'],
    ['a negative log index', (b: Record<string, any>) => (b.verificationMaterial.tlogEntries[0].logIndex = '-1'), 'verificationMaterial.tlogEntries[0].logIndex'],
    ['a log index that is not an integer', (b: Record<string, any>) => (b.verificationMaterial.tlogEntries[0].logIndex = '1e3'), 'verificationMaterial.tlogEntries[0].logIndex'],
    ['an int64 out of range', (b: Record<string, any>) => (b.verificationMaterial.tlogEntries[0].integratedTime = '9223372036854775808'), 'verificationMaterial.tlogEntries[0].integratedTime'],
    ['a signature that is not base64', (b: Record<string, any>) => (b.messageSignature.signature = 'not base64!'), 'messageSignature.signature'],
    ['an unknown field', (b: Record<string, any>) => (b.verificationMaterial.extra = 1), 'verificationMaterial'],
    ['a snake_case field name', (b: Record<string, any>) => { b.verification_material = b.verificationMaterial; delete b.verificationMaterial; }, 'bundle'],
    ['a DSSE envelope with two signatures', (b: Record<string, any>) => { delete b.messageSignature; b.dsseEnvelope = { payload: B64(4), payloadType: 'x', signatures: [{ sig: B64(8) }, { sig: B64(8) }] }; }, 'dsseEnvelope.signatures'],
  ])('refuses %s, naming the field', (_name, edit, field) => {
    expect(refused(() => readSigstoreBundle(bundle(edit)))).toEqual({ code: 'FORMAT', field });
  });

  it('refuses JSON that is not strict (a duplicate key)', () => {
    expect(refused(() => readSigstoreBundle('{"mediaType": "a", "mediaType": "b"}'))?.code).toBe('JSON');
  });
});

describe('trusted roots', () => {
  const key = (validFor: unknown) => ({ rawBytes: B64(91), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor });
  const root = (validFor: unknown = { start: '2021-01-12T11:53:27Z' }) =>
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [{ baseUrl: 'https://rekor.sigstore.dev', hashAlgorithm: 'SHA2_256', publicKey: key(validFor), logId: { keyId: B64(32) } }],
      certificateAuthorities: [{ subject: { organization: 'sigstore.dev', commonName: 'sigstore' }, uri: 'https://fulcio.sigstore.dev', certChain: { certificates: [{ rawBytes: B64(50) }] }, validFor: { start: '2022-04-13T20:06:15Z', end: '2022-12-31T23:59:59.999Z' } }],
    });

  it('reads windows, both ends inclusive; an open end stays open; null is unset', () => {
    const r = readTrustedRoot(root({ start: '2021-01-12T11:53:27Z', end: null }));
    expect(r.tlogs[0]!.validFor).toEqual({ start: Date.parse('2021-01-12T11:53:27Z') });
    const ca = r.certificateAuthorities[0]!.validFor;
    expect(isValidAt(ca, Date.parse('2022-12-31T23:59:59.999Z'))).toBe(true);
    expect(isValidAt(ca, Date.parse('2023-01-01T00:00:00Z'))).toBe(false);
    expect(isValidAt(ca, Date.parse('2022-04-13T20:06:14Z'))).toBe(false);
  });

  it.each([
    ['a key without validFor.start (refused, not guessed)', { end: '2030-01-01T00:00:00Z' }, 'tlogs[0].publicKey.validFor.start'],
    ['a start that is not RFC 3339', { start: '12 Jan 2021' }, 'tlogs[0].publicKey.validFor.start'],
    ['an end before the start', { start: '2022-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' }, 'tlogs[0].publicKey.validFor'],
  ])('refuses %s', (_name, validFor, field) => {
    expect(refused(() => readTrustedRoot(root(validFor)))).toEqual({ code: 'FORMAT', field });
  });

  it('refuses an authority without certificates and an unknown media type', () => {
    const noCerts = JSON.parse(root());
    noCerts.certificateAuthorities[0].certChain.certificates = [];
    expect(refused(() => readTrustedRoot(JSON.stringify(noCerts)))).toEqual({ code: 'FORMAT', field: 'certificateAuthorities[0].certChain.certificates' });
    expect(refused(() => readTrustedRoot(JSON.stringify({ ...JSON.parse(root()), mediaType: 'x' })))).toEqual({ code: 'FORMAT', field: 'mediaType' });
  });
});

describe('verifyFulcioChain', () => {
  it('refuses when no certificate authority of the trusted root was valid at the signing time', async () => {
    const { verifyFulcioChain } = await import('../../bindings/sigstore/certificate.js');
    const root = readTrustedRoot(JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      certificateAuthorities: [{ uri: 'https://fulcio.example', certChain: { certificates: [{ rawBytes: B64(50) }] }, validFor: { start: '2030-01-01T00:00:00Z' } }],
    }));
    await expect(verifyFulcioChain({} as never, root, Date.parse('2026-01-01T00:00:00Z'))).rejects.toThrow(/no certificate authority of the trusted root was valid at 2026-01-01/);
  });
});
