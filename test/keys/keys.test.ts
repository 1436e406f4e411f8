/**
 * Key formats and key ids, checked against Debian's in-toto 1.3.1 (securesystemslib 0.26): keys are made by
 * its `in-toto-keygen` (and by python-cryptography for the PEM forms it reads but does not write) at test time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DerError, DerReader, derOid, derSequence, derSmallInteger, derUnsignedInteger } from '../../bindings/keys/der.js';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import {
  type KeyType,
  computeKeyid,
  computeNewKeyid,
  keyToDict,
  keyToPrivateFile,
  keyToPublicFile,
  keyidCandidates,
  loadPublicKey,
  privateKeyFromEd25519Seed,
  publicKeyFromDict,
} from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { assertReferenceInstalled, makeTempDir, runPython, runReference } from '../helpers/reference.js';

const PASSWORD = 'correct horse';
const TYPES: KeyType[] = ['ed25519', 'ecdsa', 'rsa'];
let dir: string;

/** `in-toto-keygen -t TYPE [-p] NAME`, the password typed twice on stdin. */
function keygen(type: KeyType, name: string, password?: string): string {
  const args = ['-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), ...(password ? ['-p'] : []), name];
  const run = spawnSync('/usr/bin/in-toto-keygen', args, { cwd: dir, input: password ? `${password}\n${password}\n` : '', encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`in-toto-keygen failed: ${run.stderr}`);
  return join(dir, name);
}

/** What the reference makes of a key pair: the public key dict it would put in a layout, the private key's id. */
function referenceKeys(items: { path: string; type: KeyType; password?: string }[]): { pub: Record<string, unknown>; privateKeyid: string }[] {
  const program = `
import json, sys
from securesystemslib import interface
out = []
for item in json.load(sys.stdin):
    pub = interface.import_publickeys_from_file([item['path'] + '.pub'], [item['type']])
    priv = interface.import_privatekey_from_file(item['path'], item['type'], password=item.get('password'))
    out.append({'pub': list(pub.values())[0], 'privateKeyid': priv['keyid']})
print(json.dumps(out))`;
  return JSON.parse(runPython(program, JSON.stringify(items)).toString());
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InTotoError) return e.code;
    throw e;
  }
  throw new Error('did not throw');
}

async function asyncError(promise: Promise<unknown>): Promise<InTotoError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

function errorOf(fn: () => unknown): InTotoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  dir = makeTempDir('in-toto-keys-');
  for (const type of TYPES) {
    keygen(type, type);
    keygen(type, `${type}-enc`, PASSWORD);
  }
});

describe('key ids, against the reference', () => {
  it('match in-toto 1.3.1 for every key type, public and private, plain and encrypted', async () => {
    const items = TYPES.flatMap((type) => [
      { path: join(dir, type), type },
      { path: join(dir, `${type}-enc`), type, password: PASSWORD },
    ]);
    const reference = referenceKeys(items);
    for (const [i, item] of items.entries()) {
      const pub = loadPublicKey(readFileSync(`${item.path}.pub`), { keyType: item.type });
      const priv = await loadPrivateKey(readFileSync(item.path), { keyType: item.type, password: item.password });
      expect(pub.keyid, item.path).toBe(reference[i].pub.keyid);
      expect(priv.keyid, item.path).toBe(reference[i].privateKeyid);
      expect(priv.publicKey).toEqual(pub);
      // The dict a layout's `keys` holds, exactly (RSA's carries an empty `private`, the others none).
      expect(keyToDict(pub)).toEqual(reference[i].pub);
      expect(keyToDict(priv)).toEqual(reference[i].pub);
    }
  });

  it('name the link files in-toto-run writes, for every key type', async () => {
    for (const type of TYPES) {
      const work = makeTempDir('in-toto-run-');
      const run = runReference('in-toto-run', ['-n', `step-${type}`, '-k', join(dir, type), '-t', type, '-x'], work);
      expect(run.status, run.stderr).toBe(0);
      const key = await loadPrivateKey(readFileSync(join(dir, type)));
      expect(readdirSync(work)).toEqual([`step-${type}.${key.keyid.slice(0, 8)}.link`]);
    }
  });

  it('follow the reference on PEM trailing newlines and CRLF', () => {
    const pem = readFileSync(join(dir, 'rsa.pub'), 'utf8');
    expect(pem.endsWith('-----END PUBLIC KEY-----')).toBe(true); // the reference writes none
    const variants = [pem, `${pem}\n`, `\n\n${pem}\n\n`, `${pem.replaceAll('\n', '\r\n')}\r\n`];
    const program = `
import json, sys
from securesystemslib import keys
print(json.dumps([keys.import_rsakey_from_public_pem(p)['keyid'] for p in json.load(sys.stdin)]))`;
    const reference = JSON.parse(runPython(program, JSON.stringify(variants)).toString());
    // The reference cuts the PEM at the END line and turns CRLF into LF: one id for all of these.
    expect(new Set(reference).size).toBe(1);
    expect(variants.map((v) => loadPublicKey(v).keyid)).toEqual(reference);
    expect(loadPublicKey(variants[3]).public).toBe(pem);
  });

  it('give ECDSA keys the reference id whether read from JSON, a private PEM or a public PEM', () => {
    const file = JSON.parse(readFileSync(join(dir, 'ecdsa'), 'utf8'));
    const program = `
import json, sys
from securesystemslib import keys
d = json.load(sys.stdin)
print(json.dumps([keys.import_ecdsakey_from_private_pem(d['keyval']['private'])['keyid'],
                  keys.import_ecdsakey_from_public_pem(d['keyval']['public'])['keyid']]))`;
    const [fromPrivatePem, fromPublicPem] = JSON.parse(runPython(program, JSON.stringify(file)).toString());
    // JSON and private PEM keep the library's trailing newline; a public PEM is cut like RSA's.
    expect(fromPrivatePem).toBe(file.keyid);
    expect(fromPublicPem).not.toBe(file.keyid);
    expect(loadPublicKey(file.keyval.public).keyid).toBe(fromPublicPem);
    return loadPrivateKey(file.keyval.private).then((k) => expect(k.keyid).toBe(fromPrivatePem));
  });

  it('compute the newer scheme (without keyid_hash_algorithms) as securesystemslib >= 1.0 does', () => {
    const keys = TYPES.map((t) => loadPublicKey(readFileSync(join(dir, `${t}.pub`))));
    const program = `
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
print(json.dumps([hashlib.sha256(encode_canonical(
    {'keytype': k['keytype'], 'scheme': k['scheme'], 'keyval': {'public': k['public']}}).encode()).hexdigest()
    for k in json.load(sys.stdin)]))`;
    const reference = JSON.parse(runPython(program, JSON.stringify(keys)).toString());
    expect(keys.map(computeNewKeyid)).toEqual(reference);
    expect(keys.map(computeKeyid)).toEqual(keys.map((k) => k.keyid));
    expect(reference).not.toContain(keys[0].keyid);
  });

  it('list both schemes, with and without a PEM trailing newline, as candidates', () => {
    const rsa = loadPublicKey(readFileSync(join(dir, 'rsa.pub')));
    const withNewline = { ...rsa, public: `${rsa.public}\n` };
    expect(new Set(keyidCandidates(rsa))).toEqual(
      new Set([computeKeyid(rsa), computeNewKeyid(rsa), computeKeyid(withNewline), computeNewKeyid(withNewline)]),
    );
    const ed = loadPublicKey(readFileSync(join(dir, 'ed25519.pub')));
    expect(keyidCandidates(ed)).toEqual([computeKeyid(ed), computeNewKeyid(ed)]);
  });
});

describe('writing key files', () => {
  it('writes the .pub and the private key file byte for byte as in-toto-keygen does', async () => {
    for (const type of TYPES) {
      const key = await loadPrivateKey(readFileSync(join(dir, type)));
      expect(keyToPublicFile(key)).toBe(readFileSync(join(dir, `${type}.pub`), 'utf8'));
      expect(keyToPrivateFile(key)).toBe(readFileSync(join(dir, type), 'utf8'));
    }
  });

  it('publicKeyFromDict keeps a layout dict as it is, keyid included', () => {
    const key = loadPublicKey(readFileSync(join(dir, 'ecdsa.pub')));
    const dict = { ...keyToDict(key), keyid: 'ab'.repeat(32) };
    const fromDict = publicKeyFromDict(dict);
    expect(fromDict.keyid).toBe('ab'.repeat(32));
    expect(keyToDict(fromDict)).toEqual(dict);
    const { keyid_hash_algorithms: _, keyid: __, ...bare } = dict;
    expect(publicKeyFromDict(bare).keyid).toBe(key.keyid);
    expect(publicKeyFromDict(bare).keyidHashAlgorithms).toBeUndefined();
  });
});

/** PEM forms the reference reads but in-toto-keygen does not write, from python-cryptography. */
interface PemFixtures {
  rsa: { pkcs8: string; pkcs8Encrypted: string; spki: string; keyid: string };
  ec256: { pkcs8: string; pkcs8Encrypted: string; sec1: string; spki: string; privateKeyid: string; publicKeyid: string };
  ec384: { sec1: string; spki: string; publicKeyid: string };
  ed25519: { pkcs8: string; pkcs8Encrypted: string; spki: string; keyid: string; hex: string };
  secp256k1: string;
  p521: string;
  rsaPublicPkcs1: string;
}

describe('PEM key formats', () => {
  let fx: PemFixtures;
  beforeAll(() => {
    const program = `
import json
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib import keys
pw = s.BestAvailableEncryption(b'hunter2')
def pems(k, fmt=s.PrivateFormat.PKCS8):
    return (k.private_bytes(s.Encoding.PEM, fmt, s.NoEncryption()).decode(),
            k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, pw).decode(),
            k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())
r = rsa.generate_private_key(65537, 2048)
rp, re, rs = pems(r)
e = ec.generate_private_key(ec.SECP256R1())
ep, ee, es = pems(e)
e384 = ec.generate_private_key(ec.SECP384R1())
d = ed25519.Ed25519PrivateKey.generate()
dp, de, ds = pems(d)
dhex = d.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
spki = lambda k: k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
print(json.dumps({
  'rsa': {'pkcs8': rp, 'pkcs8Encrypted': re, 'spki': rs,
          'keyid': keys.import_rsakey_from_private_pem(re, password='hunter2')['keyid']},
  'ec256': {'pkcs8': ep, 'pkcs8Encrypted': ee, 'spki': es,
            'sec1': e.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(),
            'privateKeyid': keys.import_ecdsakey_from_private_pem(ee, password='hunter2')['keyid'],
            'publicKeyid': keys.import_ecdsakey_from_public_pem(es)['keyid']},
  'ec384': {'sec1': e384.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(),
            'spki': spki(e384),
            'publicKeyid': keys.import_ecdsakey_from_public_pem(spki(e384), 'ecdsa-sha2-nistp384')['keyid']},
  'ed25519': {'pkcs8': dp, 'pkcs8Encrypted': de, 'spki': ds, 'hex': dhex,
              'keyid': keys._get_keyid('ed25519', 'ed25519', {'public': dhex})},
  'secp256k1': spki(ec.generate_private_key(ec.SECP256K1())),
  'p521': spki(ec.generate_private_key(ec.SECP521R1())),
  'rsaPublicPkcs1': r.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.PKCS1).decode(),
}))`;
    fx = JSON.parse(runPython(program).toString());
  });

  it('reads PKCS#8, SEC1 and SPKI, with the reference key ids', async () => {
    expect((await loadPrivateKey(fx.rsa.pkcs8)).keyid).toBe(fx.rsa.keyid);
    expect(loadPublicKey(fx.rsa.spki).keyid).toBe(fx.rsa.keyid);
    expect((await loadPrivateKey(fx.ec256.pkcs8)).keyid).toBe(fx.ec256.privateKeyid);
    expect((await loadPrivateKey(fx.ec256.sec1)).keyid).toBe(fx.ec256.privateKeyid);
    expect(loadPublicKey(fx.ec256.spki).keyid).toBe(fx.ec256.publicKeyid);
    const ec384 = await loadPrivateKey(fx.ec384.sec1);
    expect(ec384.scheme).toBe('ecdsa-sha2-nistp384');
    expect(loadPublicKey(fx.ec384.spki)).toMatchObject({ scheme: 'ecdsa-sha2-nistp384', keyid: fx.ec384.publicKeyid });
    const ed = await loadPrivateKey(fx.ed25519.pkcs8);
    expect(ed).toMatchObject({ keytype: 'ed25519', public: fx.ed25519.hex, keyid: fx.ed25519.keyid });
    expect(loadPublicKey(fx.ed25519.spki)).toEqual(ed.publicKey);
  });

  it('reads PKCS#8 v2 (RFC 5958) and checks the public key it carries', async () => {
    const v1 = Buffer.from(fx.ed25519.pkcs8.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const v2 = (pub: Uint8Array) => {
      const body = [0x02, 0x01, 0x01, ...v1.subarray(5), 0x81, 0x21, 0x00, ...pub];
      return `-----BEGIN PRIVATE KEY-----\n${Buffer.from([0x30, body.length, ...body]).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    };
    const pub = Buffer.from(fx.ed25519.hex, 'hex');
    expect((await loadPrivateKey(v2(pub))).keyid).toBe(fx.ed25519.keyid);
    expect((await asyncError(loadPrivateKey(v2(pub.map((b, i) => (i === 0 ? b ^ 1 : b)))))).message).toMatch(/not the public half/);
  });

  it('decrypts encrypted PKCS#8 with the password, and says which error is which', async () => {
    for (const [pem, keyid] of [
      [fx.rsa.pkcs8Encrypted, fx.rsa.keyid],
      [fx.ec256.pkcs8Encrypted, fx.ec256.privateKeyid],
      [fx.ed25519.pkcs8Encrypted, fx.ed25519.keyid],
    ]) {
      expect((await loadPrivateKey(pem, { password: 'hunter2' })).keyid).toBe(keyid);
      expect((await asyncError(loadPrivateKey(pem))).code).toBe('KEY_PASSWORD');
      expect((await asyncError(loadPrivateKey(pem, { password: 'hunter3' }))).code).toBe('KEY_PASSWORD');
    }
    expect((await asyncError(loadPrivateKey(fx.rsa.pkcs8, { password: 'hunter2' }))).code).toBe('KEY_PASSWORD');
  });

  it('refuses to decrypt PEM outside node:crypto with UNSUPPORTED', async () => {
    const { getBackend } = await import('../../bindings/keys/crypto/index.js');
    for (const name of ['webcrypto', 'noble'] as const) {
      const backend = await getBackend(name);
      const error = await asyncError(loadPrivateKey(fx.rsa.pkcs8Encrypted, { password: 'hunter2', backend }));
      expect(error.code).toBe('UNSUPPORTED');
      const legacy = await asyncError(loadPrivateKey(readFileSync(join(dir, 'rsa-enc')), { password: PASSWORD, backend }));
      expect(legacy.code).toBe('UNSUPPORTED');
    }
  });

  it('refuses curves and PEM labels it does not support, naming them', async () => {
    expect(errorOf(() => loadPublicKey(fx.secp256k1)).message).toMatch(/unsupported elliptic curve 1\.3\.132\.0\.10/);
    expect(loadPublicKey(fx.p521).scheme).toBe('ecdsa-sha2-nistp521');
    expect(loadPublicKey(fx.rsaPublicPkcs1).spki).toEqual(loadPublicKey(fx.rsa.spki).spki);
    expect(errorOf(() => loadPublicKey(fx.rsaPublicPkcs1.replaceAll('RSA PUBLIC KEY', 'DSA PUBLIC KEY'))).message).toMatch(/found "DSA PUBLIC KEY"/);
    expect(errorOf(() => loadPublicKey(fx.rsa.pkcs8)).message).toMatch(/use loadPrivateKey/);
    expect((await asyncError(loadPrivateKey(fx.rsa.spki))).message).toMatch(/public key/);
    const cert = '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n';
    expect((await asyncError(loadPrivateKey(cert))).message).toMatch(/unsupported PEM label "CERTIFICATE"/);
  });

  it('refuses an ECDSA scheme that does not match the curve', () => {
    const key = loadPublicKey(fx.ec384.spki);
    expect(publicKeyFromDict({ ...keyToDict(key), keyid: undefined, scheme: 'ecdsa-sha2-nistp256' }).scheme).toBe('ecdsa-sha2-nistp256');
    const error = errorOf(() => publicKeyFromDict({ ...keyToDict(key), scheme: 'ecdsa-sha2-nistp521' }));
    expect(error).toMatchObject({ code: 'KEY', field: 'scheme' });
    expect(error.message).toMatch(/does not match the key's curve P-384/);
  });

  it('checks the key type when asked', async () => {
    expect(codeOf(() => loadPublicKey(fx.rsa.spki, { keyType: 'ed25519' }))).toBe('KEY');
    expect((await asyncError(loadPrivateKey(fx.ec256.sec1, { keyType: 'rsa' }))).code).toBe('KEY');
    expect(loadPublicKey(fx.rsa.spki, { keyType: 'rsa' }).keytype).toBe('rsa');
  });
});

describe('malformed keys', () => {
  it('truncated, wrongly labelled or corrupted PEM is a KEY error that says why', async () => {
    const pem = readFileSync(join(dir, 'rsa.pub'), 'utf8');
    const cases: [string, RegExp][] = [
      [pem.slice(0, pem.length / 2), /no "-----END PUBLIC KEY-----" line/],
      [pem.replace('-----END PUBLIC KEY-----', '-----END PRIVATE KEY-----'), /no "-----END PUBLIC KEY-----" line/],
      [pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n\n'), /malformed SubjectPublicKeyInfo/],
      [pem.replace(/A/g, '*'), /does not hold valid base64/],
      [`${pem}\n${pem}`, /more than one PEM block/],
      [pem.replace('-----\n', '-----\nComment: hi\n\n'), /has no headers/],
      ['hello', /not a public key/],
    ];
    for (const [text, message] of cases) {
      const error = errorOf(() => loadPublicKey(text));
      expect(error.code).toBe('KEY');
      expect(error.message).toMatch(message);
    }
    const priv = readFileSync(join(dir, 'rsa'), 'utf8');
    const lines = priv.split('\n');
    const truncated = await asyncError(loadPrivateKey([...lines.slice(0, 4), lines.at(-1)].join('\n')));
    expect(truncated.message).toMatch(/malformed PKCS#1 RSAPrivateKey/);
  });

  it('JSON key fields that are wrong are a KEY error naming the field', () => {
    const good = JSON.parse(readFileSync(join(dir, 'ed25519.pub'), 'utf8'));
    const cases: [unknown, string][] = [
      [{ ...good, keytype: 'dsa' }, 'keytype'],
      [{ ...good, keytype: 'ecdsa-sha2-nistp256' }, 'keytype'],
      [{ ...good, scheme: 'rsassa-pss-sha256' }, 'scheme'],
      [{ ...good, keyval: { public: 7 } }, 'keyval.public'],
      [{ ...good, keyval: { public: 'ab'.repeat(31) } }, 'keyval.public'],
      [{ ...good, keyval: { public: 'zz'.repeat(32) } }, 'keyval.public'],
      [{ ...good, keyval: { ...good.keyval, private: 'ab'.repeat(32) } }, 'keyval.private'],
      [{ ...good, keyid: 'not hex' }, 'keyid'],
      [{ ...good, keyid_hash_algorithms: 'sha256' }, 'keyid_hash_algorithms'],
      [{ ...good, keyval: { public: '-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----' }, keytype: 'rsa', scheme: 'rsassa-pss-sha256' }, 'keyval.public'],
    ];
    for (const [dict, field] of cases) {
      expect(errorOf(() => publicKeyFromDict(dict)), JSON.stringify(dict)).toMatchObject({ code: 'KEY', field });
    }
    expect(errorOf(() => publicKeyFromDict([good])).code).toBe('KEY');
    // A point that is not on the curve (y = 2 has no x) is refused when read.
    expect(errorOf(() => publicKeyFromDict({ ...good, keyval: { public: `02${'00'.repeat(31)}` } })).message).toMatch(/not a point/);
    // Duplicate keys: two parsers could read two different keys.
    const duplicate = `{"keytype": "ed25519", "keytype": "rsa", ${JSON.stringify(good).slice(1)}`;
    expect(errorOf(() => loadPublicKey(duplicate)).message).toMatch(/not valid JSON/);
  });

  it('OpenPGP key dicts are UNSUPPORTED, not a mystery', () => {
    const gpg = { keyid: 'ab'.repeat(20), type: 'rsa', method: 'pgp+rsa-pkcsv1.5', hashes: ['pgp+SHA2'], keyval: { public: { e: '010001', n: 'ab' }, private: '' } };
    expect(errorOf(() => publicKeyFromDict(gpg))).toMatchObject({ code: 'UNSUPPORTED', field: 'method' });
  });

  it('a JSON private key whose halves disagree, or whose keyid is not its own, is refused', async () => {
    const ed = JSON.parse(readFileSync(join(dir, 'ed25519'), 'utf8'));
    const other = JSON.parse(readFileSync(join(dir, 'ed25519-enc.pub'), 'utf8'));
    const mixed = { ...ed, keyval: { ...ed.keyval, public: other.keyval.public } };
    expect(await asyncError(loadPrivateKey(JSON.stringify(mixed)))).toMatchObject({ code: 'KEY', field: 'keyval.public' });
    expect(await asyncError(loadPrivateKey(JSON.stringify({ ...ed, keyid: 'ab'.repeat(32) })))).toMatchObject({ code: 'KEY', field: 'keyid' });
    expect(await asyncError(loadPrivateKey(JSON.stringify({ ...ed, keyval: { public: ed.keyval.public, private: 'xyz' } })))).toMatchObject({
      code: 'KEY',
      field: 'keyval.private',
    });
  });

  it('encrypted securesystemslib keys need the right password', async () => {
    for (const type of ['ed25519', 'ecdsa'] as const) {
      const file = readFileSync(join(dir, `${type}-enc`));
      expect((await asyncError(loadPrivateKey(file))).code).toBe('KEY_PASSWORD');
      expect((await asyncError(loadPrivateKey(file, { password: 'wrong' }))).code).toBe('KEY_PASSWORD');
      const text = file.toString();
      const tampered = text.slice(0, -2) + (text.endsWith('00') ? '11' : '00');
      expect((await asyncError(loadPrivateKey(tampered, { password: PASSWORD }))).code).toBe('KEY_PASSWORD');
    }
    const rsa = readFileSync(join(dir, 'rsa-enc'));
    expect((await asyncError(loadPrivateKey(rsa))).code).toBe('KEY_PASSWORD');
    expect((await asyncError(loadPrivateKey(rsa, { password: 'wrong' }))).code).toBe('KEY_PASSWORD');
  });

  it('a private key never shows its secret in JSON or when logged', async () => {
    const key = await loadPrivateKey(readFileSync(join(dir, 'ed25519')));
    const secret = JSON.parse(readFileSync(join(dir, 'ed25519'), 'utf8')).keyval.private;
    expect(JSON.stringify(key)).not.toContain(secret);
    expect(Object.keys(key)).not.toContain('pkcs8');
    expect(key.pkcs8).toBeInstanceOf(Uint8Array);
  });

  it('non-UTF-8 bytes and programming mistakes are told apart', () => {
    expect(codeOf(() => loadPublicKey(Uint8Array.of(0xff, 0xfe)))).toBe('KEY');
    expect(() => loadPublicKey(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('DER', () => {
  const read = (hex: string, fn: (r: DerReader) => unknown) => fn(new DerReader(Uint8Array.from(Buffer.from(hex, 'hex'))));
  const refused = (hex: string, fn: (r: DerReader) => unknown) => expect(() => read(hex, fn)).toThrow(DerError);

  it('reads minimal encodings', () => {
    expect(read('020100', (r) => r.unsignedInteger('i'))).toEqual(Uint8Array.of(0));
    expect(read('02020080', (r) => r.unsignedInteger('i'))).toEqual(Uint8Array.of(0x80));
    expect(read('06082a8648ce3d030107', (r) => r.oid('o'))).toBe('1.2.840.10045.3.1.7');
    expect(read('0603550403', (r) => r.oid('o'))).toBe('2.5.4.3');
    expect(read(`0481${'80'}${'00'.repeat(128)}`, (r) => r.octetString('s').length)).toBe(128);
  });

  it('refuses everything that is not DER', () => {
    refused('0201', (r) => r.unsignedInteger('truncated length'));
    refused('020200', (r) => r.unsignedInteger('truncated contents'));
    refused('02020001', (r) => r.unsignedInteger('non-minimal integer'));
    refused('0200', (r) => r.unsignedInteger('empty integer'));
    refused('0201ff', (r) => r.unsignedInteger('negative'));
    refused('04810100', (r) => r.octetString('long form for a short length'));
    refused('0482000100', (r) => r.octetString('leading zero in the length'));
    refused('3080020100', (r) => r.sequence('indefinite length'));
    refused('0485ffffffffff', (r) => r.octetString('huge length'));
    refused('0301010f', (r) => r.bitString('unused bits'));
    refused('060380', (r) => r.oid('leading 0x80 in an arc'));
    refused('06022a86', (r) => r.oid('unterminated arc'));
    refused('0500', (r) => r.unsignedInteger('wrong tag'));
    refused('05010000', (r) => r.null('NULL with contents'));
    refused('3003020100ff', (r) => {
      r.sequence('s');
      r.end('trailing byte');
    });
  });

  it('writes what it reads', () => {
    for (const oid of ['1.2.840.113549.1.1.1', '1.3.101.112', '2.999.1', '1.3.132.0.34']) {
      expect(read(Buffer.from(derOid(oid)).toString('hex'), (r) => r.oid('o'))).toBe(oid);
    }
    expect(derUnsignedInteger(Uint8Array.of(0, 0, 0x80))).toEqual(Uint8Array.of(2, 2, 0, 0x80));
    expect(derUnsignedInteger(Uint8Array.of(0, 0))).toEqual(Uint8Array.of(2, 1, 0));
    expect(derSmallInteger(256)).toEqual(Uint8Array.of(2, 2, 1, 0));
    const long = derSequence(new Uint8Array(300));
    expect([...long.subarray(0, 4)]).toEqual([0x30, 0x82, 0x01, 0x2c]);
    expect(new DerReader(long).read(0x30, 'sequence').length).toBe(300);
  });
});

describe('keys made here', () => {
  it('load in the reference with the same key id', async () => {
    const { generateKeyPair } = await import('../../bindings/keys/crypto/index.js');
    const work = makeTempDir('in-toto-ours-');
    const keys = await Promise.all(TYPES.map((t) => generateKeyPair(t, t === 'rsa' ? { bits: 2048 } : {})));
    const items = keys.map((key) => {
      const path = join(work, key.keytype);
      writeFileSync(path, keyToPrivateFile(key));
      writeFileSync(`${path}.pub`, keyToPublicFile(key));
      return { path, type: key.keytype };
    });
    const reference = referenceKeys(items);
    keys.forEach((key, i) => {
      expect(reference[i].privateKeyid).toBe(key.keyid);
      expect(reference[i].pub).toEqual(keyToDict(key));
    });
  });
});

describe('Ed25519 public keys from seeds', () => {
  it("node:crypto's derivation (used on Node) and noble's (used elsewhere) agree on 64 seeds", async () => {
    const { getPublicKeyAsync } = await import('@noble/ed25519');
    for (let i = 0; i < 64; i++) {
      const seed = new Uint8Array(32).map((_, j) => (i * 37 + j * 11 + (i ^ j)) & 0xff);
      const key = privateKeyFromEd25519Seed(seed);
      expect(key.public).toBe(Buffer.from(await getPublicKeyAsync(seed)).toString('hex'));
    }
  });
});
