/**
 * What interop with in-toto-golang, in-toto-rs, python >= 2 and DSSE needs of keys, envelopes and X.509, tested
 * with material made here (no foreign vectors needed): key formats (DER, raw, PKCS#1 public, certificates,
 * PKCS#5-encrypted PKCS#8), key ids under every scheme, golang's ECDSA label and P-521, raw r||s ECDSA in DSSE,
 * and certificate chains built with the openssl command line.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, sign, verify } from '../../bindings/keys/crypto/index.js';
import { decryptPkcs8, desCbcDecrypt } from '../../bindings/keys/crypto/pbe.js';
import { ecdsaDerToRaw } from '../../bindings/keys/crypto/webcrypto.js';
import { canonicalize, initEngine } from '../../bindings/engine.js';
import { createDsse, createMetablock, readDsseEnvelope, readEnvelope, serializeEnvelope, signEnvelope, verifyDsse, verifySignatureBy } from '../../bindings/metadata/envelope.js';
import { InTotoError } from '../../bindings/errors.js';
import {
  computeKeyid,
  computeNewKeyid,
  keyIds,
  keyToDict,
  keyidCandidates,
  loadPublicKey,
  publicKeyFromDict,
} from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { linkFileName } from '../../bindings/verify/link-source.js';
import { toLister } from '../../bindings/verify/link-list.js';
import { verify as verifyChain } from '../../bindings/verify/verify.js';
import { parseCertificatePem, verifyCertificateChain, type Certificate, EKU } from '../../bindings/keys/x509.js';

const dir = mkdtempSync(join(tmpdir(), 'in-toto-keys-foreign-'));
beforeAll(async () => {
  await initEngine();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const DATA = new TextEncoder().encode('in-toto interop');

async function error(run: Promise<unknown> | (() => unknown)): Promise<InTotoError> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('key formats beyond the reference', () => {
  it('reads DER SPKI, PKCS#1 RSAPublicKey (DER and PEM), PKCS#8, PKCS#1 and SEC1 DER, all to one key each', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ed = generateKeyPairSync('ed25519');
    const spki = (k: typeof rsa.publicKey) => k.export({ type: 'spki', format: 'der' });
    const pem = (k: typeof rsa.publicKey) => k.export({ type: 'spki', format: 'pem' }) as string;
    for (const pair of [rsa, ec, ed]) {
      const reference = loadPublicKey(pem(pair.publicKey));
      expect(loadPublicKey(spki(pair.publicKey)).spki).toEqual(reference.spki);
      expect((await loadPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'der' }))).publicKey.spki).toEqual(reference.spki);
    }
    expect(loadPublicKey(rsa.publicKey.export({ type: 'pkcs1', format: 'der' })).spki).toEqual(loadPublicKey(pem(rsa.publicKey)).spki);
    expect(loadPublicKey(rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string).spki).toEqual(loadPublicKey(pem(rsa.publicKey)).spki);
    expect((await loadPrivateKey(rsa.privateKey.export({ type: 'pkcs1', format: 'der' }))).publicKey.spki).toEqual(loadPublicKey(pem(rsa.publicKey)).spki);
    expect((await loadPrivateKey(ec.privateKey.export({ type: 'sec1', format: 'der' }))).publicKey.spki).toEqual(loadPublicKey(pem(ec.publicKey)).spki);
    // A DER key gets the PEM golang writes for it (64-character lines, no trailing newline): K1 as golang's.
    const der = loadPublicKey(spki(rsa.publicKey));
    expect(der.public).toBe(pem(rsa.publicKey).trimEnd());
    expect(der.keyid).toBe(loadPublicKey(pem(rsa.publicKey)).keyid);
  });

  it('reads raw Ed25519 keys: 32 bytes public, 32 bytes seed, 64 bytes seed and public key', async () => {
    const pair = generateKeyPairSync('ed25519');
    const raw = Uint8Array.from(pair.publicKey.export({ format: 'jwk' }).x ? Buffer.from(pair.publicKey.export({ format: 'jwk' }).x as string, 'base64url') : []);
    const seed = Uint8Array.from(Buffer.from(pair.privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
    const pub = loadPublicKey(raw);
    expect(pub.public).toBe(hex(raw));
    expect((await loadPrivateKey(seed)).publicKey.spki).toEqual(pub.spki);
    expect((await loadPrivateKey(Uint8Array.from([...seed, ...raw]))).publicKey.spki).toEqual(pub.spki);
    const wrongHalf = Uint8Array.from([...seed, ...raw.map((b, i) => (i === 0 ? b ^ 1 : b))]);
    expect((await error(loadPrivateKey(wrongHalf))).message).toMatch(/not the seed's public key/);
    expect((await error(() => loadPublicKey(Uint8Array.from([...seed, ...raw])))).message).toMatch(/loadPrivateKey/);
    expect((await error(() => loadPublicKey(new Uint8Array(31)))).code).toBe('KEY');
    // As text, raw bytes are not a key format: a string must be PEM or JSON.
    expect((await error(() => loadPublicKey(hex(raw)))).code).toBe('KEY');
  });

  it("reads a certificate's public key, as golang's LoadKey does", () => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'cert.key', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=x');
    const fromCert = loadPublicKey(readFileSync(join(dir, 'cert.pem')));
    const fromKey = loadPublicKey(openssl('pkey', '-in', 'cert.key', '-pubout'));
    expect(fromCert.spki).toEqual(fromKey.spki);
    expect(fromCert.keyid).toBe(fromKey.keyid);
  });

  it('decrypts PKCS#8 under PBES1 (MD5/SHA-1 and DES) and PBES2 (PBKDF2 with AES, DES-EDE3, DES)', async () => {
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521', '-out', 'p521.pem');
    const plain = await loadPrivateKey(readFileSync(join(dir, 'p521.pem')));
    const legacy = ['-provider', 'legacy', '-provider', 'default'];
    const variants: [string, string[]][] = [
      ['md5-des', ['-v1', 'PBE-MD5-DES', ...legacy]],
      ['sha1-des', ['-v1', 'PBE-SHA1-DES', ...legacy]],
      ['des3-sha1', ['-v2', 'des3', '-v2prf', 'hmacWithSHA1']],
      ['aes192-sha512', ['-v2', 'aes-192-cbc', '-v2prf', 'hmacWithSHA512']],
      ['aes256-sha256', ['-v2', 'aes-256-cbc']],
      ['des', ['-v2', 'des-cbc', ...legacy]],
    ];
    for (const [name, args] of variants) {
      openssl('pkcs8', '-topk8', '-in', 'p521.pem', '-passout', 'pass:correct horse', '-out', `${name}.pem`, ...args);
      const pem = readFileSync(join(dir, `${name}.pem`), 'utf8');
      // Through the loader (node:crypto first, this code where OpenSSL 3 refuses the scheme)...
      expect((await loadPrivateKey(pem, { password: 'correct horse' })).publicKey.spki, name).toEqual(plain.publicKey.spki);
      // ...and through the pure decryptor itself, for every scheme.
      const der = Uint8Array.from(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
      const pkcs8 = await decryptPkcs8(der, 'correct horse');
      expect((await loadPrivateKey(pkcs8)).publicKey.spki, name).toEqual(plain.publicKey.spki);
      expect((await error(decryptPkcs8(der, 'wrong horse'))).code, name).toBe('KEY_PASSWORD');
    }
    expect((await error(loadPrivateKey(readFileSync(join(dir, 'md5-des.pem')), { password: 'wrong' }))).code).toBe('KEY_PASSWORD');
  });

  it('implements DES as FIPS 81 specifies (its CBC example)', () => {
    const out = desCbcDecrypt([unhex('0123456789abcdef')], unhex('1234567890abcdef'), unhex('e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6'));
    expect(new TextDecoder().decode(out)).toBe('Now is the time for all ');
    // The textbook single block: K = 133457799BBCDFF1, P = 0123456789ABCDEF, C = 85E813540F0AB405.
    expect(hex(desCbcDecrypt([unhex('133457799bbcdff1')], new Uint8Array(8), unhex('85e813540f0ab405')))).toBe('0123456789abcdef');
  });
});

describe('ECDSA: P-521, and golang labelling every curve ecdsa-sha2-nistp256', () => {
  it('generates, signs and verifies P-521 with SHA-512 on every backend that has ECDSA', async () => {
    const node = await getBackend('node');
    const webcrypto = await getBackend('webcrypto');
    const key = await node.generateKeyPair('ecdsa', { scheme: 'ecdsa-sha2-nistp521' });
    expect(key.scheme).toBe('ecdsa-sha2-nistp521');
    for (const signer of [node, webcrypto]) {
      const sig = await signer.sign(key, DATA);
      for (const verifier of [node, webcrypto]) expect(await verifier.verify(key.publicKey, DATA, sig)).toBe(true);
      const pem = Buffer.from(`-----BEGIN PUBLIC KEY-----\n${Buffer.from(key.spki).toString('base64')}\n-----END PUBLIC KEY-----\n`);
      const { verify: nodeVerify } = await import('node:crypto');
      expect(nodeVerify('sha512', DATA, pem.toString(), Buffer.from(sig))).toBe(true);
    }
  });

  it('accepts the golang label on a P-384 key for its key id, and verifies with SHA-384 whatever the label', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const own = loadPublicKey(pem);
    expect(own.scheme).toBe('ecdsa-sha2-nistp384');
    const dict = { ...keyToDict(own), scheme: 'ecdsa-sha2-nistp256', keyid: undefined };
    const golang = publicKeyFromDict(dict);
    expect(golang.keyid).toBe(computeKeyid({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', public: own.public }));
    expect(keyidCandidates(own)).toContain(golang.keyid);
    expect(keyidCandidates(golang)).toContain(own.keyid);
    const sha384 = createSign('sha384').update(DATA).sign(pair.privateKey);
    const sha256 = createSign('sha256').update(DATA).sign(pair.privateKey);
    for (const backend of [await getBackend('node'), await getBackend('webcrypto')]) {
      expect(await backend.verify(golang, DATA, sha384)).toBe(true);
      // The label does not pick the hash: a SHA-256 signature (what python would make under this label) fails.
      expect(await backend.verify(golang, DATA, sha256)).toBe(false);
    }
    // Signing under a label that names another curve is refused.
    const priv = await loadPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { scheme: 'ecdsa-sha2-nistp256' });
    expect((await error(sign(priv, DATA))).code).toBe('KEY');
    expect((await error(sign(priv, DATA, { backend: 'webcrypto' }))).code).toBe('KEY');
    // Any other mismatch is refused where the key is read.
    expect((await error(() => publicKeyFromDict({ ...keyToDict(loadPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string)), scheme: 'ecdsa-sha2-nistp384' }))).code).toBe('KEY');
  });
});

describe('verify() with P-521 and golang-labelled functionaries', () => {
  it('counts links by a P-521 key and by a P-384 key listed under its golang (nistp256-labelled) id', async () => {
    const backend = await getBackend();
    const owner = await backend.generateKeyPair('ed25519');
    const p521 = await backend.generateKeyPair('ecdsa', { scheme: 'ecdsa-sha2-nistp521' });
    const p384 = await backend.generateKeyPair('ecdsa', { scheme: 'ecdsa-sha2-nistp384' });
    const golangId = computeKeyid({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', public: p384.public });
    const step = (name: string, keyid: string) => ({ _type: 'step', name, pubkeys: [keyid], threshold: 1, expected_command: [], expected_materials: [], expected_products: [] });
    const layout = await signEnvelope(
      createMetablock({
        _type: 'layout', expires: '2099-01-01T00:00:00Z', readme: '', inspect: [],
        keys: {
          [golangId]: { ...keyToDict(p384.publicKey), scheme: 'ecdsa-sha2-nistp256', keyid: golangId },
          [p521.keyid]: keyToDict(p521.publicKey),
        },
        steps: [step('a', golangId), step('b', p521.keyid)],
      }),
      owner,
    );
    const link = (name: string) => createMetablock({ _type: 'link', name, materials: {}, products: {}, byproducts: {}, command: [], environment: {} });
    const a = await signEnvelope(link('a'), p384);
    // The layout's keys map names the key: the signature carries that id (the signature itself is SHA-384).
    const aFile = serializeEnvelope({ ...a, signatures: [{ ...a.signatures[0]!, keyid: golangId }] });
    const links = new Map([
      [linkFileName('a', golangId), aFile],
      [linkFileName('b', p521.keyid), serializeEnvelope(await signEnvelope(link('b'), p521))],
    ]);
    const verdict = await verifyChain({ layout: serializeEnvelope(layout), layoutKeys: [owner.publicKey], links });
    expect(verdict.failures).toEqual([]);
    // Under the curve's own id, the link is not found: the map's id is the authority.
    const renamed = new Map([...links].map(([k, v]) => [k.startsWith('a.') ? linkFileName('a', p384.keyid) : k, v]));
    expect((await verifyChain({ layout: serializeEnvelope(layout), layoutKeys: [owner.publicKey], links: renamed })).passed).toBe(false);
  });
});

describe('key ids under every scheme', () => {
  it('K1, K2 and K3 of a PEM key, and the candidates that include them', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const key = loadPublicKey(pem);
    const trimmed = pem.trimEnd();
    const ids = keyIds(key);
    expect(ids.legacy).toBe(key.keyid);
    expect(ids.legacy).toBe(computeKeyid({ keytype: 'rsa', scheme: 'rsassa-pss-sha256', public: trimmed }));
    expect(ids.noHashAlgorithms).toBe(computeNewKeyid({ keytype: 'rsa', scheme: 'rsassa-pss-sha256', public: trimmed }));
    expect(ids.pemWithNewline).toBe(computeNewKeyid({ keytype: 'rsa', scheme: 'rsassa-pss-sha256', public: `${trimmed}\n` }));
    // By hand: sha256 of the canonical dict.
    const k3 = createHash('sha256').update(canonicalize(JSON.stringify({ keytype: 'rsa', scheme: 'rsassa-pss-sha256', keyval: { public: `${trimmed}\n` } }))).digest('hex');
    expect(ids.pemWithNewline).toBe(k3);
    expect(keyidCandidates(key)).toEqual(expect.arrayContaining([ids.legacy, ids.noHashAlgorithms, ids.pemWithNewline]));
    // A PEM written with CRLF and other line lengths still has the standard encoding's ids among its candidates.
    const odd = `-----BEGIN PUBLIC KEY-----\r\n${Buffer.from(key.spki).toString('base64').match(/.{1,76}/g)!.join('\r\n')}\r\n-----END PUBLIC KEY-----`;
    expect(keyidCandidates(loadPublicKey(odd))).toEqual(expect.arrayContaining([ids.legacy, ids.pemWithNewline]));
  });

  it('matches a layout signature under any id of the given key, but only the first signature with one of them counts', async () => {
    const owner = await (await getBackend()).generateKeyPair('ed25519');
    const signed = await signEnvelope(createMetablock({ _type: 'layout', x: 1 }), owner);
    const k2 = keyIds(owner).noHashAlgorithms;
    const renamed = readEnvelope(JSON.stringify({ signed: signed.signed, signatures: [{ ...signed.signatures[0], keyid: k2 }] }));
    await verifySignatureBy(renamed, owner.publicKey);
    // With the id fixed (a layout's keys map), another id does not name the key.
    expect((await error(verifySignatureBy(renamed, owner.publicKey, [owner.keyid]))).code).toBe('SIGNATURE');
    const bad = { keyid: owner.keyid, sig: '00'.repeat(64) };
    const twice = readEnvelope(JSON.stringify({ signed: signed.signed, signatures: [bad, { ...signed.signatures[0], keyid: k2 }] }));
    expect((await error(verifySignatureBy(twice, owner.publicKey))).code).toBe('SIGNATURE');
  });
});

describe('DSSE', () => {
  it('accepts raw r||s ECDSA signatures in DSSE envelopes (the DSSE test vector uses them), not in metablocks', async () => {
    const key = await (await getBackend()).generateKeyPair('ecdsa');
    const dsse = await signEnvelope(createDsse({ _type: 'link', a: 1 }), key);
    const raw = ecdsaDerToRaw(Buffer.from(dsse.signatures[0]!.sig, 'base64'), 32)!;
    const rawDsse = readEnvelope(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(serializeEnvelope(dsse))), signatures: [{ keyid: key.keyid, sig: Buffer.from(raw).toString('base64') }] }));
    await verifySignatureBy(rawDsse, key.publicKey);
    const meta = await signEnvelope(createMetablock({ _type: 'link', a: 1 }), key);
    const metaRaw = await sign(key, meta.signedBytes).then((der) => ecdsaDerToRaw(der, 32)!);
    const rawMeta = readEnvelope(JSON.stringify({ signed: meta.signed, signatures: [{ keyid: key.keyid, sig: hex(metaRaw) }] }));
    expect((await error(verifySignatureBy(rawMeta, key.publicKey))).code).toBe('SIGNATURE');
  });

  it('verifies any payload type with DSSE rules: the keyid a hint, a missing one allowed', async () => {
    const key = await (await getBackend()).generateKeyPair('ed25519');
    const payload = new TextEncoder().encode('hello world');
    const { pae, toBase64 } = await import('../../bindings/encoding.js');
    const sig = toBase64(await sign(key, pae('text/plain', payload)));
    const envelope = (signatures: unknown[]) => readDsseEnvelope(JSON.stringify({ payload: toBase64(payload), payloadType: 'text/plain', signatures }));
    await verifyDsse(envelope([{ sig }]), [key.publicKey]);
    await verifyDsse(envelope([{ keyid: 'not-an-id', sig }]), [key.publicKey]);
    await verifyDsse(envelope([{ keyid: key.keyid, sig: toBase64(new Uint8Array(64)) }, { sig }]), [key.publicKey]);
    expect((await error(verifyDsse(envelope([{ sig: toBase64(new Uint8Array(64)) }]), [key.publicKey]))).code).toBe('SIGNATURE');
    expect((await error(() => readDsseEnvelope(JSON.stringify({ payload: 'aGk=', payloadType: 'x', signatures: [], extra: 1 })))).code).toBe('FORMAT');
  });
});

describe('X.509 chains (RFC 5280), as in-toto-golang checks its functionaries', () => {
  /** Issues a certificate with openssl: `extensions` go to an extension file. Returns the parsed certificate. */
  function issue(name: string, opts: { subject: string; key: string; issuer?: string; extensions: string; days?: number; sign?: string[] }): Certificate {
    const keyArgs: Record<string, string[]> = {
      rsa: ['-newkey', 'rsa:2048'],
      p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      p384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      ed25519: ['-newkey', 'ed25519'],
    };
    writeFileSync(join(dir, `${name}.ext`), `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${opts.extensions}\n`);
    const days = String(opts.days ?? 30);
    if (!opts.issuer) {
      openssl('req', '-x509', ...keyArgs[opts.key]!, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', days, '-subj', opts.subject, '-config', `${name}.ext`, '-extensions', 'v3', ...(opts.sign ?? []));
    } else {
      openssl('req', '-new', ...keyArgs[opts.key]!, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', opts.subject);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${opts.issuer}.pem`, '-CAkey', `${opts.issuer}.key`, '-set_serial', String(Math.floor(Math.random() * 1e9)), '-out', `${name}.pem`, '-days', days, '-extfile', `${name}.ext`, '-extensions', 'v3', ...(opts.sign ?? []));
    }
    return parseCertificatePem(readFileSync(join(dir, `${name}.pem`), 'utf8'));
  }
  const CA = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
  const LEAF = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=URI:spiffe://example.org/build,DNS:build.example.org,email:build@example.org';
  let root: Certificate;
  let intermediate: Certificate;
  let leaf: Certificate;
  /** A minute after the certificates were made (openssl dates them from now, to the second). */
  let now: Date;

  beforeAll(() => {
    root = issue('root', { subject: '/O=example/CN=root', key: 'p384', extensions: CA, days: 365, sign: ['-sha384'] });
    intermediate = issue('int', { subject: '/O=example/CN=intermediate', key: 'rsa', issuer: 'root', extensions: `${CA.replace('CA:TRUE', 'CA:TRUE,pathlen:0')}`, days: 365 });
    // RSA-PSS, as some CAs sign.
    leaf = issue('leaf', { subject: '/CN=build.example.org/O=example/O=second', key: 'ed25519', issuer: 'int', extensions: LEAF, sign: ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sha256'] });
    now = new Date(Date.now() + 60_000);
  });

  it('reads what the constraints compare: names, organizations, SANs, validity', () => {
    expect(leaf.subjectName.commonName).toBe('build.example.org');
    expect(leaf.subjectName.organizations).toEqual(['example', 'second']);
    expect(leaf.uris).toEqual(['spiffe://example.org/build']);
    expect(leaf.dnsNames).toEqual(['build.example.org']);
    expect(leaf.emails).toEqual(['build@example.org']);
    expect(leaf.signatureAlgorithm).toEqual({ name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 });
    expect(root.signatureAlgorithm).toEqual({ name: 'ECDSA', hash: 'SHA-384' });
    expect(intermediate.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(leaf.notAfter).toBeGreaterThan(Date.now());
  });

  it('builds leaf -> intermediate -> root (ECDSA, RSA-PSS, Ed25519 keys), on node:crypto and WebCrypto', async () => {
    const chain = await verifyCertificateChain(leaf, { roots: [root], intermediates: [intermediate], now });
    expect(chain.map((c) => c.subjectName.commonName)).toEqual(['build.example.org', 'intermediate', 'root']);
    const web = await getBackend('webcrypto');
    expect(await web.verifyWith(intermediate.spki, leaf.signatureAlgorithm!, leaf.tbs, leaf.signature)).toBe(true);
    expect(await web.verifyWith(root.spki, intermediate.signatureAlgorithm!, intermediate.tbs, intermediate.signature)).toBe(true);
    expect(await web.verifyWith(root.spki, leaf.signatureAlgorithm!, leaf.tbs, leaf.signature)).toBe(false);
  });

  it('refuses chains Go refuses, and those RFC 5280 says it should', async () => {
    const untrusted = async (cert: Certificate, opts: { roots?: Certificate[]; intermediates?: Certificate[]; now?: Date }) =>
      (await error(verifyCertificateChain(cert, { roots: opts.roots ?? [root], intermediates: opts.intermediates ?? [intermediate], now: opts.now ?? now }))).message;
    expect(await untrusted(leaf, { intermediates: [] })).toMatch(/no root or intermediate is named 'O=example, CN=intermediate'/);
    expect(await untrusted(leaf, { now: new Date(now.getTime() + 60 * 86400_000) })).toMatch(/expired at/);
    expect(await untrusted(leaf, { now: new Date(now.getTime() - 86400_000) })).toMatch(/not valid before/);
    // An intermediate that is not a CA.
    const notCa = issue('notca', { subject: '/CN=notca', key: 'p256', issuer: 'root', extensions: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign' });
    const underNotCa = issue('undernotca', { subject: '/CN=x', key: 'p256', issuer: 'notca', extensions: LEAF });
    expect(await untrusted(underNotCa, { intermediates: [notCa] })).toMatch(/not a CA certificate/);
    // pathlen:0 allows no intermediate below it.
    const sub = issue('sub', { subject: '/CN=sub', key: 'p256', issuer: 'int', extensions: CA });
    const underSub = issue('undersub', { subject: '/CN=y', key: 'p256', issuer: 'sub', extensions: LEAF });
    expect(await untrusted(underSub, { intermediates: [intermediate, sub] })).toMatch(/pathLenConstraint 0/);
    // Go's default key usage: a chain restricted to code signing does not verify there, so not here either.
    const codeSigning = issue('codesign', { subject: '/CN=z', key: 'p256', issuer: 'int', extensions: `${LEAF}\nextendedKeyUsage=codeSigning` });
    expect(await untrusted(codeSigning, {})).toMatch(/server authentication/);
    const serverAuth = issue('serverauth', { subject: '/CN=z', key: 'p256', issuer: 'int', extensions: `${LEAF}\nextendedKeyUsage=serverAuth,codeSigning` });
    await verifyCertificateChain(serverAuth, { roots: [root], intermediates: [intermediate], now });
    // Asked for code signing (Sigstore's Fulcio certificates): the code-signing chain verifies, a server-only one does not.
    await verifyCertificateChain(codeSigning, { roots: [root], intermediates: [intermediate], now, extKeyUsage: EKU.codeSigning });
    const serverOnly = issue('serveronly', { subject: '/CN=s', key: 'p256', issuer: 'int', extensions: `${LEAF}\nextendedKeyUsage=serverAuth` });
    expect((await error(verifyCertificateChain(serverOnly, { roots: [root], intermediates: [intermediate], now, extKeyUsage: EKU.codeSigning }))).message).toMatch(/does not include code signing/);
    // A critical extension nobody here understands.
    const unknownCritical = issue('critical', { subject: '/CN=w', key: 'p256', issuer: 'int', extensions: `${LEAF}\n1.2.3.4=critical,ASN1:NULL` });
    expect(await untrusted(unknownCritical, {})).toMatch(/unsupported critical extension\(s\) 1\.2\.3\.4/);
    // SHA-1 signatures are refused, as Go refuses them.
    const sha1 = issue('sha1', { subject: '/CN=v', key: 'p256', issuer: 'int', extensions: LEAF, sign: ['-sha1'] });
    expect((await error(verifyCertificateChain(sha1, { roots: [root], intermediates: [intermediate], now }))).code).toBe('UNSUPPORTED');
    // A certificate that names the right issuer but was signed by another key.
    const impostor = issue('impostor-ca', { subject: '/O=example/CN=intermediate', key: 'rsa', extensions: CA, days: 365 });
    const forged = issue('forged', { subject: '/CN=build.example.org', key: 'p256', issuer: 'impostor-ca', extensions: LEAF });
    expect(await untrusted(forged, {})).toMatch(/did not sign/);
  });

  it('refuses malformed certificates with a KEY error', async () => {
    const der = Buffer.from(readFileSync(join(dir, 'leaf.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const truncated = `-----BEGIN CERTIFICATE-----\n${der.subarray(0, der.length - 10).toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect((await error(() => parseCertificatePem(truncated))).code).toBe('KEY');
    expect((await error(() => parseCertificatePem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'))).code).toBe('KEY');
  });
});

describe('listing link sources (certificate functionaries are found by listing)', () => {
  it('lists a map by directory, a directory on disk, and a loader that can list', async () => {
    const map = new Map([['a.1.link', ''], ['sub.1/b.2.link', ''], ['sub.1/deeper/c.link', '']]);
    expect(await toLister(map)('')).toEqual(['a.1.link']);
    expect(await toLister(map)('sub.1')).toEqual(['b.2.link']);
    writeFileSync(join(dir, 'x.12345678.link'), '{}');
    expect(await toLister({ directory: dir })('')).toContain('x.12345678.link');
    expect(await toLister({ directory: dir })('missing')).toEqual([]);
    const loader = Object.assign(async () => undefined, { list: async (d: string) => [`${d}listed`] });
    expect(await toLister(loader)('')).toEqual(['listed']);
    expect(await toLister(async () => undefined)('')).toBeUndefined();
  });
});
