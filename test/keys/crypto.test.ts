/**
 * Signatures on every backend (a platforms table: one suite, run over node:crypto, WebCrypto and noble),
 * checked against Debian's in-toto 1.3.1 (securesystemslib 0.26 over python-cryptography / OpenSSL).
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendName, type CryptoBackend, defaultBackendName, getBackend, sign, verify } from '../../bindings/keys/crypto/index.js';
import { createWebCryptoBackend, ecdsaDerToRaw, ecdsaRawToDer, pssSaltLength } from '../../bindings/keys/crypto/webcrypto.js';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { type KeyType, type PrivateKey, type PublicKey, keyToPrivateFile, keyToPublicFile, loadPublicKey } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { assertReferenceInstalled, makeTempDir, runPython } from '../helpers/reference.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const flip = (b: Uint8Array, at: number) => b.map((x, i) => (i === at ? x ^ 0x01 : x));

const ALL: KeyType[] = ['ed25519', 'ecdsa', 'rsa'];
const PLATFORMS: { name: BackendName; types: KeyType[] }[] = [
  { name: 'node', types: ALL },
  { name: 'webcrypto', types: ALL },
  { name: 'noble', types: ['ed25519'] },
];

let dir: string;
const keys = {} as Record<KeyType, { path: string; private: PrivateKey; public: PublicKey }>;
const DATA = new TextEncoder().encode('{"_type":"link","name":"test \u00e9"}');

/** The reference signs `data` with each key file: securesystemslib `create_signature`. */
function referenceSign(items: { path: string; type: KeyType; data: Uint8Array }[]): Uint8Array[] {
  const program = `
import json, sys
from securesystemslib import interface, keys
out = []
for item in json.load(sys.stdin):
    key = interface.import_privatekey_from_file(item['path'], item['type'])
    out.append(keys.create_signature(key, bytes.fromhex(item['data']))['sig'])
print(json.dumps(out))`;
  const input = items.map((i) => ({ ...i, data: hex(i.data) }));
  return JSON.parse(runPython(program, JSON.stringify(input)).toString()).map(unhex);
}

/** The reference's verdict: securesystemslib `verify_signature` with the key it reads from the `.pub` file. */
function referenceVerify(items: { pubPath: string; type: KeyType; data: Uint8Array; sig: Uint8Array }[]): boolean[] {
  const program = `
import json, sys
from securesystemslib import interface, keys
out = []
for item in json.load(sys.stdin):
    key = list(interface.import_publickeys_from_file([item['pubPath']], [item['type']]).values())[0]
    out.append(keys.verify_signature(key, {'keyid': key['keyid'], 'sig': item['sig']}, bytes.fromhex(item['data'])))
print(json.dumps(out))`;
  const input = items.map((i) => ({ ...i, data: hex(i.data), sig: hex(i.sig) }));
  return JSON.parse(runPython(program, JSON.stringify(input)).toString());
}

async function rejection(promise: Promise<unknown>): Promise<InTotoError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  dir = makeTempDir('in-toto-crypto-');
  for (const type of ALL) {
    const path = join(dir, type);
    const run = spawnSync('/usr/bin/in-toto-keygen', ['-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), path], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    keys[type] = { path, private: await loadPrivateKey(readFileSync(path)), public: loadPublicKey(readFileSync(`${path}.pub`)) };
  }
});

describe.each(PLATFORMS)('$name backend', ({ name, types }) => {
  let backend: CryptoBackend;
  beforeAll(async () => {
    backend = await getBackend(name);
  });

  it("verifies the reference's signatures, and nothing else", async () => {
    const sigs = referenceSign(types.map((type) => ({ path: keys[type].path, type, data: DATA })));
    for (const [i, type] of types.entries()) {
      const key = keys[type].public;
      const sig = sigs[i];
      expect(await backend.verify(key, DATA, sig), type).toBe(true);
      const other = types.find((t) => t !== type) ?? type;
      const bad: Uint8Array[] = [
        flip(sig, 0),
        flip(sig, sig.length - 1),
        flip(sig, sig.length >> 1),
        sig.subarray(0, sig.length - 1),
        Uint8Array.from([...sig, 0]),
        new Uint8Array(0),
        new Uint8Array(sig.length),
        new Uint8Array(sig.length).fill(0xff),
        randomBytes(sig.length),
      ];
      for (const b of bad) expect(await backend.verify(key, DATA, b), `${type} ${hex(b)}`).toBe(false);
      expect(await backend.verify(key, flip(DATA, 3), sig), type).toBe(false);
      expect(await backend.verify(key, new Uint8Array(0), sig), type).toBe(false);
      if (other !== type) expect(await backend.verify(keys[type].public, DATA, sigs[types.indexOf(other)])).toBe(false);
    }
  });

  it('signs what the reference verifies (Ed25519: the very same bytes)', async () => {
    const ours = await Promise.all(types.map((type) => backend.sign(keys[type].private, DATA)));
    const verdicts = referenceVerify(types.map((type, i) => ({ pubPath: `${keys[type].path}.pub`, type, data: DATA, sig: ours[i] })));
    expect(verdicts).toEqual(types.map(() => true));
    for (const [i, type] of types.entries()) expect(await backend.verify(keys[type].public, DATA, ours[i])).toBe(true);
    // Ed25519 is deterministic (RFC 8032 §5.1.6): our signature is the reference's.
    const [reference] = referenceSign([{ path: keys.ed25519.path, type: 'ed25519', data: DATA }]);
    expect(ours[types.indexOf('ed25519')]).toEqual(reference);
    // ECDSA signatures are DER (SEQUENCE of two INTEGERs), as the reference writes them.
    if (types.includes('ecdsa')) expect(ours[types.indexOf('ecdsa')][0]).toBe(0x30);
  });

  it('refuses a malleated Ed25519 signature (S + L), as RFC 8032 §5.1.7 requires', async () => {
    const [sig] = referenceSign([{ path: keys.ed25519.path, type: 'ed25519', data: DATA }]);
    // S is the little-endian second half; adding the group order L gives the same point equation.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const sPlusL = BigInt(`0x${hex(sig.subarray(32).reverse())}`) + L;
    const malleated = Uint8Array.from([...sig.subarray(0, 32), ...unhex(sPlusL.toString(16).padStart(64, '0')).reverse()]);
    expect(await backend.verify(keys.ed25519.public, DATA, malleated)).toBe(false);
  });

  it('signs RSA-PSS with a 32-byte salt, as securesystemslib (PSS.DIGEST_LENGTH)', async () => {
    if (!types.includes('rsa')) return expect((await rejection(backend.sign(keys.rsa.private, DATA))).code).toBe('UNSUPPORTED');
    expect(pssSaltLength(keys.rsa.public, await backend.sign(keys.rsa.private, DATA))).toBe(32);
  });

  it('generates keys that sign, verify, and load in the reference', async () => {
    const variants = (
      [
        ['ed25519', {}, 'ed25519'],
        ['ecdsa', {}, 'ecdsa-sha2-nistp256'],
        ['ecdsa', { scheme: 'ecdsa-sha2-nistp384' }, 'ecdsa-sha2-nistp384'],
        ['rsa', { bits: 2048 }, 'rsassa-pss-sha256'],
      ] as const
    ).filter(([t]) => types.includes(t));
    const made = await Promise.all(variants.map(([t, o]) => backend.generateKeyPair(t, o)));
    expect(made.map((k) => k.scheme)).toEqual(variants.map(([, , scheme]) => scheme));
    const work = makeTempDir('in-toto-gen-');
    const items = await Promise.all(
      made.map(async (key, i) => {
        const pubPath = join(work, `${i}.pub`);
        writeFileSync(pubPath, keyToPublicFile(key));
        writeFileSync(join(work, `${i}`), keyToPrivateFile(key));
        const sig = await backend.sign(key, DATA);
        expect(await backend.verify(key.publicKey, DATA, sig)).toBe(true);
        expect(await backend.verify(key.publicKey, flip(DATA, 0), sig)).toBe(false);
        return { pubPath, type: key.keytype, data: DATA, sig };
      }),
    );
    expect(referenceVerify(items)).toEqual(items.map(() => true));
  });

  it('refuses the key types it lacks with UNSUPPORTED, and misuse with TypeError', async () => {
    for (const type of ALL.filter((t) => !types.includes(t))) {
      expect((await rejection(backend.verify(keys[type].public, DATA, new Uint8Array(64)))).code).toBe('UNSUPPORTED');
      expect((await rejection(backend.sign(keys[type].private, DATA))).code).toBe('UNSUPPORTED');
      expect((await rejection(backend.generateKeyPair(type))).code).toBe('UNSUPPORTED');
    }
    await expect(backend.verify(keys.ed25519.public, 'data' as unknown as Uint8Array, new Uint8Array(64))).rejects.toThrow(TypeError);
    await expect(backend.verify({} as PublicKey, DATA, new Uint8Array(64))).rejects.toThrow(TypeError);
    await expect(backend.generateKeyPair('dsa' as KeyType)).rejects.toThrow(TypeError);
  });
});

/** Signatures made straight with python-cryptography: the variants securesystemslib accepts but does not make. */
interface Variants {
  rsaPub: string;
  rsaSalts: { salt: number; sig: string }[];
  p384Pub: string;
  p384Sig: string;
  ecPub: string;
  ecSig: string;
  offCurvePub: string;
}

describe.each(PLATFORMS.filter((p) => p.name !== 'noble'))('$name backend, beyond what the reference signs', ({ name }) => {
  let backend: CryptoBackend;
  let v: Variants;
  beforeAll(async () => {
    backend = await getBackend(name);
    const program = `
import json, sys
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
data = bytes.fromhex(sys.argv[1])
pem = lambda k: k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
r = rsa.generate_private_key(65537, 2048)
salts = [0, 20, 32, 64, padding.PSS.MAX_LENGTH]
sig = lambda n: r.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=n), hashes.SHA256()).hex()
p384 = ec.generate_private_key(ec.SECP384R1())
p256 = ec.generate_private_key(ec.SECP256R1())
# The library will not build a point off the curve: flip the last bit of y in the DER instead.
der = bytearray(p256.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))
der[-1] ^= 1
import base64
print(json.dumps({
  'rsaPub': pem(r), 'rsaSalts': [{'salt': 2048 // 8 - 32 - 2 if n == padding.PSS.MAX_LENGTH else n, 'sig': sig(n)} for n in salts],
  'p384Pub': pem(p384), 'p384Sig': p384.sign(data, ec.ECDSA(hashes.SHA384())).hex(),
  'ecPub': pem(p256), 'ecSig': p256.sign(data, ec.ECDSA(hashes.SHA256())).hex(),
  'offCurvePub': '-----BEGIN PUBLIC KEY-----\\n' + base64.b64encode(bytes(der)).decode() + '\\n-----END PUBLIC KEY-----',
}))`;
    v = JSON.parse(runPython(program, undefined, [hex(DATA)]).toString());
  });

  it('accepts RSA-PSS with any salt length, as securesystemslib (PSS.AUTO) does', async () => {
    const key = loadPublicKey(v.rsaPub);
    for (const { salt, sig } of v.rsaSalts) {
      expect(pssSaltLength(key, unhex(sig)), `salt ${salt}`).toBe(salt);
      expect(await backend.verify(key, DATA, unhex(sig)), `salt ${salt}`).toBe(true);
      expect(await backend.verify(key, flip(DATA, 1), unhex(sig)), `salt ${salt}`).toBe(false);
    }
  });

  it('verifies ECDSA P-384 with SHA-384', async () => {
    const key = loadPublicKey(v.p384Pub);
    expect(key.scheme).toBe('ecdsa-sha2-nistp384');
    expect(await backend.verify(key, DATA, unhex(v.p384Sig))).toBe(true);
    expect(await backend.verify(key, flip(DATA, 0), unhex(v.p384Sig))).toBe(false);
  });

  it('refuses ECDSA signatures in non-canonical DER, like OpenSSL', async () => {
    const key = loadPublicKey(v.ecPub);
    const sig = unhex(v.ecSig);
    expect(await backend.verify(key, DATA, sig)).toBe(true);
    const raw = ecdsaDerToRaw(sig, 32) as Uint8Array;
    const r = raw.subarray(0, 32);
    const s = raw.subarray(32);
    // r with a superfluous leading zero octet: the same numbers, a second encoding.
    const int = (x: Uint8Array) => [0x02, x.length, ...x];
    const padded = [...int(Uint8Array.from([0, 0, ...r])), ...int(s)];
    const nonMinimal = Uint8Array.from([0x30, padded.length, ...padded]);
    const longForm = Uint8Array.from([0x30, 0x81, sig[1], ...sig.subarray(2)]);
    for (const bad of [nonMinimal, longForm, Uint8Array.from([...sig, 0])]) {
      expect(ecdsaDerToRaw(bad, 32)).toBeUndefined();
      expect(await backend.verify(key, DATA, bad)).toBe(false);
    }
  });

  it('reports a key the backend cannot use as a KEY error, not as a failed signature', async () => {
    const key = loadPublicKey(v.offCurvePub);
    const error = await rejection(backend.verify(key, DATA, unhex(v.ecSig)));
    expect(error.code).toBe('KEY');
    expect(error.keyid).toBe(key.keyid);
    // 512-bit RSA loads, but has no room for a PSS encoding with a 32-byte salt (RFC 8017 §9.1.1 step 3).
    const pem = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const tiny = await loadPrivateKey(pem);
    expect(await rejection(backend.sign(tiny, DATA))).toMatchObject({ code: 'KEY', keyid: tiny.keyid });
  });
});

describe('ECDSA signature encodings (DER <-> r||s)', () => {
  const der = (...b: number[]) => Uint8Array.from(b);

  it('strips and restores leading zeros, and the sign octet of a high bit', () => {
    const raw = new Uint8Array(64);
    raw[0] = 0x80; // r has its high bit set: DER needs a 0x00 before it
    raw[63] = 0x05; // s is small: DER drops its 31 leading zero octets
    const encoded = ecdsaRawToDer(raw);
    expect([...encoded]).toEqual([0x30, 0x26, 0x02, 0x21, 0x00, 0x80, ...new Array(31).fill(0), 0x02, 0x01, 0x05]);
    expect(ecdsaDerToRaw(encoded, 32)).toEqual(raw);
    expect(ecdsaDerToRaw(der(0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00), 32)).toEqual(new Uint8Array(64));
  });

  it('round-trips every r||s', () => {
    fc.assert(
      fc.property(fc.constantFrom(32, 48), fc.uint8Array({ minLength: 96, maxLength: 96 }), (size, bytes) => {
        const raw = bytes.subarray(0, 2 * size);
        expect(ecdsaDerToRaw(ecdsaRawToDer(raw), size)).toEqual(raw);
      }),
    );
  });

  it('refuses what is not a canonical Ecdsa-Sig-Value', () => {
    const cases = [
      der(0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01), // negative r
      der(0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01), // r with a needless zero
      der(0x30, 0x03, 0x02, 0x01, 0x01), // s missing
      der(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01), // truncated
      der(0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01), // a SET, not a SEQUENCE
      der(0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00), // indefinite length
      Uint8Array.from([0x30, 0x25, 0x02, 0x21, 0x01, ...new Array(32).fill(0), 0x02, 0x00]), // r wider than the curve
      new Uint8Array(0),
    ];
    for (const c of cases) expect(ecdsaDerToRaw(c, 32), hex(c)).toBeUndefined();
    expect(ecdsaDerToRaw(Uint8Array.from([0x30, 0x25, 0x02, 0x21, 0x01, ...new Array(32).fill(0), 0x02, 0x00]), 33)).toBeUndefined(); // empty s
    expect(() => ecdsaRawToDer(new Uint8Array(63))).toThrow(RangeError);
  });
});

describe('backend selection', () => {
  it('uses node:crypto on Node, and any backend on request', async () => {
    expect(defaultBackendName()).toBe('node');
    expect((await getBackend()).name).toBe('node');
    const sig = await sign(keys.ed25519.private, DATA, { backend: 'noble' });
    for (const backend of ['node', 'webcrypto', 'noble'] as const) expect(await verify(keys.ed25519.public, DATA, sig, { backend })).toBe(true);
    await expect(getBackend('openssl' as BackendName)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('falls back to noble for Ed25519 where WebCrypto lacks it', async () => {
    const subtle = globalThis.crypto.subtle;
    const lacksEd25519 = new Proxy(subtle, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const alg = args.find((a) => a === 'Ed25519' || (a as { name?: string })?.name === 'Ed25519');
          if (alg) return Promise.reject(new DOMException('Ed25519 is not supported', 'NotSupportedError'));
          return value.apply(target, args);
        };
      },
    });
    const backend = createWebCryptoBackend(lacksEd25519);
    const [reference] = referenceSign([{ path: keys.ed25519.path, type: 'ed25519', data: DATA }]);
    expect(await backend.verify(keys.ed25519.public, DATA, reference)).toBe(true);
    expect(await backend.verify(keys.ed25519.public, DATA, flip(reference, 9))).toBe(false);
    expect(await backend.sign(keys.ed25519.private, DATA)).toEqual(reference);
    expect((await backend.generateKeyPair('ed25519')).keytype).toBe('ed25519');
    // RSA and ECDSA still go to WebCrypto.
    const [ecSig] = referenceSign([{ path: keys.ecdsa.path, type: 'ecdsa', data: DATA }]);
    expect(await backend.verify(keys.ecdsa.public, DATA, ecSig)).toBe(true);
  });
});
