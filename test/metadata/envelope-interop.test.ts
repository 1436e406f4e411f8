/**
 * Metablock and DSSE envelopes, and signature interop with Debian's in-toto 1.3.1 for every key type:
 * links and layouts signed by the reference verify here, ours verify there, and one changed byte in
 * `signed` fails in both.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, pae, toBase64 } from '../../bindings/encoding.js';
import { initEngine } from '../../bindings/engine.js';
import { createDsse, createMetablock, readEnvelope, serializeEnvelope, signEnvelope, verifyEnvelope, verifySignatureBy } from '../../bindings/metadata/envelope.js';
import { InTotoError } from '../../bindings/errors.js';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { loadPublicKey, type PrivateKey, type PublicKey } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { REFERENCE_PYTHON, assertReferenceInstalled, makeTempDir, runPython } from '../helpers/reference.js';
import { makeKey, referenceRun, writeLayout, type KeyFile } from '../helpers/scenario.js';

/** Exit 0 when the reference accepts the file's signature by the key, 1 with its error otherwise. */
const REFERENCE_VERIFY = `
import sys
from in_toto.models.metadata import Metablock
from securesystemslib import interface
metablock = Metablock.load(sys.argv[1])
key = list(interface.import_publickeys_from_file([sys.argv[2]], [sys.argv[3]]).values())[0]
try:
    metablock.verify_signature(key)
except Exception as e:
    print(type(e).__name__, e)
    sys.exit(1)
print("OK")
`;

function referenceAccepts(file: string, key: KeyFile): boolean {
  const result = spawnSync(REFERENCE_PYTHON, ['-c', REFERENCE_VERIFY, file, `${key.path}.pub`, key.type], { encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 1) throw new Error(`reference crashed: ${result.stderr}`);
  return result.status === 0;
}

/** Flips one hex digit of the first sha256 digest inside `signed`: a one-byte change the signature covers. */
function flipDigest(text: string): string {
  const at = text.indexOf('"sha256": "') + '"sha256": "'.length;
  return text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1);
}

async function rejects(promise: Promise<unknown>): Promise<InTotoError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InTotoError);
    return error as InTotoError;
  }
  throw new Error('accepted');
}

const KEY_TYPES = ['ed25519', 'rsa', 'ecdsa'] as const;

describe('signature interop with in-toto 1.3.1', () => {
  const dir = makeTempDir('in-toto-envelope-');
  const keys = {} as Record<(typeof KEY_TYPES)[number], { file: KeyFile; pub: PublicKey; priv: PrivateKey }>;

  beforeAll(async () => {
    assertReferenceInstalled();
    await initEngine();
    writeFileSync(join(dir, 'a.txt'), 'hello\n');
    for (const type of KEY_TYPES) {
      const file = makeKey(dir, `key-${type}`, type);
      keys[type] = {
        file,
        pub: loadPublicKey(readFileSync(`${file.path}.pub`), { keyType: type }),
        priv: await loadPrivateKey(readFileSync(file.path), { keyType: type }),
      };
    }
  });

  describe.each(KEY_TYPES)('%s', (type) => {
    it('a link recorded and signed by the reference verifies here; a changed byte fails in both', async () => {
      const { file, pub } = keys[type];
      referenceRun(dir, `ref-${type}`, file, { materials: ['a.txt'], products: ['a.txt'], command: ['true'] });
      const path = join(dir, `ref-${type}.${pub.keyid.slice(0, 8)}.link`);
      await verifyEnvelope(readEnvelope(readFileSync(path)), [pub]);

      const tampered = join(dir, `tampered-${type}.link`);
      writeFileSync(tampered, flipDigest(readFileSync(path, 'utf8')));
      expect(referenceAccepts(tampered, file)).toBe(false);
      expect(await rejects(verifyEnvelope(readEnvelope(readFileSync(tampered)), [pub]))).toMatchObject({ code: 'SIGNATURE', keyid: pub.keyid });
    });

    it('a link signed here verifies in the reference; a changed byte fails in both', async () => {
      const { file, pub, priv } = keys[type];
      const link = {
        _type: 'link', name: 'ours', command: ['make', 'ünïcode'], environment: {}, byproducts: { 'return-value': 0, stdout: 'ok\n', stderr: '' },
        materials: { 'src/a.c': { sha256: 'ab'.repeat(32) } }, products: { 'bin/a': { sha256: 'cd'.repeat(32), sha512: 'ef'.repeat(64) } },
      };
      const signed = await signEnvelope(createMetablock(link), priv);
      const path = join(dir, `ours-${type}.link`);
      writeFileSync(path, serializeEnvelope(signed));
      expect(referenceAccepts(path, file)).toBe(true);
      await verifyEnvelope(readEnvelope(readFileSync(path)), [pub]);

      const tampered = join(dir, `ours-tampered-${type}.link`);
      writeFileSync(tampered, flipDigest(readFileSync(path, 'utf8')));
      expect(referenceAccepts(tampered, file)).toBe(false);
      await rejects(verifyEnvelope(readEnvelope(readFileSync(tampered)), [pub]));
    });

    it('a layout signed by the reference verifies here; a changed byte fails in both', async () => {
      const { file, pub } = keys[type];
      const path = join(dir, `root-${type}.layout`);
      writeLayout(path, { steps: [{ name: 'build', pubkeys: [file], expected_products: [['CREATE', 'a.txt']] }], signers: [file] });
      await verifyEnvelope(readEnvelope(readFileSync(path)), [pub]);
      const tampered = join(dir, `root-tampered-${type}.layout`);
      writeFileSync(tampered, readFileSync(path, 'utf8').replace('"CREATE"', '"ALLOW"'));
      expect(referenceAccepts(tampered, file)).toBe(false);
      await rejects(verifyEnvelope(readEnvelope(readFileSync(tampered)), [pub]));
    });
  });

  it('writes files byte-identical to the reference (ed25519 signatures are deterministic)', async () => {
    const { file, priv } = keys.ed25519;
    const link = {
      _type: 'link', name: 'same', command: ['echo', 'ü €'], environment: {}, byproducts: {},
      materials: { 'é/\u{1F600}.txt': { sha256: '01'.repeat(32) } }, products: {},
    };
    const theirs = runPython(
      `import json, sys
from securesystemslib import interface
from in_toto.models.link import Link
from in_toto.models.metadata import Metablock
m = Metablock(signed=Link.read(json.loads(sys.stdin.read())))
m.sign(interface.import_privatekey_from_file(sys.argv[1], "ed25519"))
sys.stdout.write(str(m))`,
      JSON.stringify(link),
      [file.path],
    );
    const ours = serializeEnvelope(await signEnvelope(createMetablock(link), priv));
    expect(new TextDecoder().decode(ours)).toBe(theirs.toString('utf8'));
  });
});

describe('envelopes', () => {
  beforeAll(() => initEngine());

  it('computes the DSSE pre-authentication encoding of the spec vector', () => {
    expect(new TextDecoder().decode(pae('http://example.com/HelloWorld', new TextEncoder().encode('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('signs and verifies DSSE with every key type, over the payload bytes as received', async () => {
    for (const type of KEY_TYPES) {
      const key = await generateKeyPair(type);
      const envelope = await signEnvelope(createDsse({ _type: 'link', name: 'x' }), key);
      const bytes = serializeEnvelope(envelope);
      const read = readEnvelope(bytes);
      expect(read.kind).toBe('dsse');
      await verifySignatureBy(read, key.publicKey);
      // A payload re-encoded differently (a trailing newline) is different bytes: the signature no longer holds.
      const doc = JSON.parse(new TextDecoder().decode(bytes));
      doc.payload = toBase64(new TextEncoder().encode(new TextDecoder().decode(fromBase64(doc.payload)) + '\n'));
      await rejects(verifySignatureBy(readEnvelope(JSON.stringify(doc)), key.publicKey));
    }
  });

  it('checks only the first signature carrying the key id, as the reference does', async () => {
    const key = await generateKeyPair('ed25519');
    const good = await signEnvelope(createMetablock({ _type: 'link', name: 'x' }), key);
    const bad = { ...good, signatures: [{ keyid: key.keyid, sig: '00'.repeat(64) }, ...good.signatures] };
    await verifySignatureBy(good, key.publicKey);
    expect(await rejects(verifySignatureBy(bad, key.publicKey))).toMatchObject({ code: 'SIGNATURE', keyid: key.keyid });
  });

  it('refuses a missing signature, an unknown key and a malformed one with the key id named', async () => {
    const key = await generateKeyPair('ed25519');
    const other = await generateKeyPair('ed25519');
    const envelope = await signEnvelope(createMetablock({ _type: 'link', name: 'x' }), key);
    expect(await rejects(verifyEnvelope(envelope, [other.publicKey]))).toMatchObject({ code: 'SIGNATURE', keyid: other.keyid });
    expect(await rejects(verifyEnvelope(envelope, []))).toMatchObject({ code: 'SIGNATURE' });
    const malformed = { ...envelope, signatures: [{ keyid: key.keyid, sig: 'not hex' }] };
    expect(await rejects(verifyEnvelope(malformed, [key.publicKey]))).toMatchObject({ code: 'SIGNATURE', keyid: key.keyid });
  });

  it.each([
    ['not an object', '[1]', 'FORMAT', undefined],
    ['no signed', '{"signatures":[]}', 'FORMAT', 'signed'],
    ['signed not an object', '{"signed":[],"signatures":[]}', 'FORMAT', 'signed'],
    ['signatures not a list', '{"signed":{},"signatures":{}}', 'FORMAT', 'signatures'],
    ['a signature without sig', '{"signed":{},"signatures":[{"keyid":"ab"}]}', 'FORMAT', 'signatures[0].sig'],
    ['an unknown top-level field', '{"signed":{},"signatures":[],"extra":1}', 'FORMAT', 'extra'],
    ['duplicate keys inside signed', '{"signed":{"a":1,"a":2},"signatures":[]}', 'JSON', undefined],
    ['another DSSE payload type', '{"payload":"e30=","payloadType":"text/plain","signatures":[]}', 'FORMAT', 'payloadType'],
    ['DSSE payload not base64', '{"payload":"!!","payloadType":"application/vnd.in-toto+json","signatures":[]}', 'FORMAT', 'payload'],
    ['DSSE payload with duplicate keys', `{"payload":"${toBase64(new TextEncoder().encode('{"a":1,"a":2}'))}","payloadType":"application/vnd.in-toto+json","signatures":[]}`, 'JSON', 'payload'],
  ])('refuses %s', (_name, text, code, field) => {
    let error: unknown;
    try {
      readEnvelope(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InTotoError);
    expect(error).toMatchObject({ code, ...(field ? { field } : {}) });
  });

  it('decodes both base64 alphabets and refuses non-canonical padding bits', () => {
    expect(fromBase64('-_8=')).toEqual(Uint8Array.from([0xfb, 0xff]));
    expect(fromBase64('+/8=')).toEqual(Uint8Array.from([0xfb, 0xff]));
    expect(fromBase64('+/8')).toEqual(Uint8Array.from([0xfb, 0xff]));
    expect(fromBase64('+/9=')).toBeUndefined();
    expect(fromBase64('a')).toBeUndefined();
    expect(fromBase64('ab=')).toBeUndefined();
  });
});

describe('every Metablock signature entry is checked on load, used or not, as the reference does', () => {
  const ENTRIES: [string, Record<string, string>][] = [
    ['a key id that is not hex', { keyid: 'zz', sig: '00' }],
    ['a signature that is not hex', { keyid: 'ab', sig: 'zz' }],
    ['an empty signature', { keyid: 'ab', sig: '' }],
    ['an empty key id', { keyid: '', sig: '00' }],
    ['an OpenPGP entry whose headers are not hex', { keyid: 'ab', other_headers: 'zz', signature: '00' }],
    ['an OpenPGP entry whose signature is not hex', { keyid: 'ab', other_headers: '04', signature: 'x' }],
  ];

  it.each(ENTRIES)('%s, beside a valid signature, is refused (FORMAT, naming the field); the reference refuses it too', async (_, extra) => {
    await initEngine();
    const key = await generateKeyPair('ed25519');
    const signed = await signEnvelope(createMetablock({ _type: 'link', name: 'a', materials: {}, products: {}, byproducts: {}, command: [], environment: {} }), key);
    const bytes = serializeEnvelope({ ...signed, signatures: [...signed.signatures, extra] });
    let error: unknown;
    try {
      readEnvelope(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InTotoError);
    expect(error).toMatchObject({ code: 'FORMAT', field: expect.stringMatching(/^signatures\[1\]\./) });
    const verdict = runPython(
      'import sys\nfrom in_toto.models.metadata import Metablock\ntry:\n  Metablock.load(sys.argv[1]); print("loaded")\nexcept Exception as e:\n  print(type(e).__name__)',
      undefined,
      [(() => {
        const file = join(makeTempDir(), 'x.link');
        writeFileSync(file, bytes);
        return file;
      })()],
    ).toString().trim();
    expect(verdict).toBe('FormatError');
  });
});
