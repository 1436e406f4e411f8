/**
 * The ambiguous corners of OpenPGP keys and signatures, with keys made by test/helpers/openpgp-builder.ts (an
 * independent writer of RFC 4880 packets) and, where it adds realism, checked against the real gpg: what our
 * import (`readExportedKeys`, `gpgKeyFromExport`), `verifyGpgSignature` and `gpgKeyFromDict` do with several
 * self-signatures, expirations, subkey bindings and back-signatures, revocations, odd signature entries, and
 * malformed or mutated packets. The intended semantics are in bindings/keys/openpgp/key.ts's file comment.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InTotoError } from '../../bindings/errors.js';
import { gpgKeyFromDict, gpgKeyFromExport, gpgKeyToDict, readExportedKeys, type ExportedKey, type GpgPublicKey } from '../../bindings/keys/openpgp/key.js';
import { signatureFromPacket, verifyGpgSignature } from '../../bindings/keys/openpgp/signature.js';
import { hasGpg, makeGpgHome, parseKeyList, type ColonPrimary, type GpgHome } from '../helpers/gpg.js';
import * as B from '../helpers/openpgp-builder.js';

const T0 = 1_700_000_000; // 2023-11-14
const DAY = 86_400;
const UID = 'Alice <alice@example.invalid>';
const UID2 = 'Alice (work) <alice@work.example.invalid>';
const DATA = new TextEncoder().encode('the bytes of an in-toto link\n');
const at = (t: number) => new Date(t * 1000);

/** A fresh Ed25519 key (distinct seeds, so gpg never merges two tests' keys in the shared home). */
let seed = 1;
const edKey = (created = T0) => B.ed25519Key(created, seed++);

/** Primary key packet, one user id, then whatever follows. */
const withUid = (p: B.TestKey, ...rest: Uint8Array[]) => B.concat(B.keyPacket(p), B.userIdPacket(UID), ...rest);

/** The only key in `data`. */
async function single(data: Uint8Array | string): Promise<ExportedKey> {
  const keys = await readExportedKeys(data);
  expect(keys).toHaveLength(1);
  return keys[0]!;
}

async function usable(data: Uint8Array | string): Promise<GpgPublicKey> {
  const found = await single(data);
  expect(found.refused).toBeUndefined();
  return found.key!;
}

/** The InTotoError a promise (or function) fails with; anything else fails the test. */
async function failure(work: Promise<unknown> | (() => unknown)): Promise<InTotoError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

// ---------------------------------------------------------------------------------------------------------
// gpg, for corroboration: one throwaway home for the whole file; every test imports keys of its own.

// gpg is required (CI installs gnupg): without it the suite fails loudly rather than checking less.
let home: GpgHome | undefined;
beforeAll(async () => {
  if (!hasGpg()) throw new Error("gpg is not installed: run 'apt-get install -y gnupg'");
  home = await makeGpgHome();
});
afterAll(async () => {
  await home?.close();
});

function gpg(args: string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('gpg', ['--homedir', home!.dir, '--batch', '--no-tty', ...args], { input, env: { ...process.env, GNUPGHOME: home!.dir }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Imports `data` into the gpg home and returns gpg's view of key `fpr` (undefined: gpg did not keep it). */
function gpgView(data: Uint8Array, fpr: string): ColonPrimary | undefined {
  const imported = gpg(['--import'], data);
  if (imported.status !== 0) throw new Error(`gpg --import failed: ${imported.stderr}`);
  return parseKeyList(gpg(['--with-colons', '--list-keys', '--with-subkey-fingerprints']).stdout).find((k) => k.fpr === fpr);
}

/** Runs `check` on gpg's view of the key when gpg is installed (corroboration only; our assertions stand alone). */
function corroborate(data: Uint8Array, fpr: string, check: (view: ColonPrimary | undefined) => void): void {
  check(gpgView(data, fpr));
}

/** gpg's verdict on a detached signature: its status lines. */
function gpgVerify(sig: Uint8Array, data: Uint8Array): { status: number | null; lines: string } {
  const dir = home!.dir;
  writeFileSync(join(dir, 'sig'), sig);
  writeFileSync(join(dir, 'data'), data);
  const r = gpg(['--status-fd', '1', '--verify', join(dir, 'sig'), join(dir, 'data')]);
  return { status: r.status, lines: r.stdout };
}

// ---------------------------------------------------------------------------------------------------------

describe('the builder, checked by the real gpg', () => {
  it('makes Ed25519 keys (with a signing subkey) that gpg imports with the expected validity, capabilities and expiry, and signatures gpg verifies', () => {
    const p = edKey();
    const s = edKey(T0 + 60);
    const data = withUid(p, B.certify(p, UID, { expires: 30 * 365 * DAY }), B.subkeyPacket(s), B.bindSubkey(p, s, { expires: 20 * 365 * DAY }));
    const view = gpgView(data, p.fingerprint);
    expect(view).toMatchObject({ validity: '-', capabilities: 'scSC', created: T0, expires: T0 + 30 * 365 * DAY, uids: [UID] });
    expect(view!.subkeys).toEqual([{ validity: '-', keyid: s.keyid, fpr: s.fingerprint, capabilities: 's', created: T0 + 60, expires: T0 + 60 + 20 * 365 * DAY }]);

    for (const signer of [p, s]) {
      const sig = B.detachedSignature(signer, DATA, { created: T0 + 120 });
      const r = gpgVerify(sig.packet, DATA);
      expect(r.status).toBe(0);
      // VALIDSIG: the signing key's fingerprint, the date, the time, ..., and last the primary's fingerprint.
      expect(r.lines).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG ${signer.fingerprint.toUpperCase()} \\S+ ${T0 + 120} .* ${p.fingerprint.toUpperCase()}$`, 'm'));
      // ...and the same bytes altered do not verify (gpg really checks what the builder made).
      const bad = B.detachedSignature(signer, DATA, { created: T0 + 120, corrupt: true });
      expect(gpgVerify(bad.packet, DATA).lines).toMatch(/^\[GNUPG:\] BADSIG /m);
    }
  });

  it('makes RSA keys and signatures gpg accepts, and gpg agrees with its expired and revoked keys', () => {
    const rsa = B.rsaKey(T0);
    const data = withUid(rsa, B.certify(rsa, UID));
    expect(gpgView(data, rsa.fingerprint)).toMatchObject({ validity: '-', capabilities: 'scSC', expires: undefined });
    const sig = B.detachedSignature(rsa, DATA);
    expect(gpgVerify(sig.packet, DATA).lines).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG ${rsa.fingerprint.toUpperCase()} `, 'm'));

    const expired = edKey();
    expect(gpgView(withUid(expired, B.certify(expired, UID, { expires: DAY })), expired.fingerprint)).toMatchObject({ validity: 'e', expires: T0 + DAY });
    const revoked = edKey();
    expect(gpgView(withUid(revoked, B.certify(revoked, UID)), revoked.fingerprint)?.validity).toBe('-');
    expect(gpgView(B.concat(B.keyPacket(revoked), B.revokeKey(revoked, { created: T0 + 10 })), revoked.fingerprint)?.validity).toBe('r');
  });

  it('makes text and SHA-512 signatures that gpg accepts (so refusing them below is policy, not a builder bug)', () => {
    const p = edKey();
    gpgView(withUid(p, B.certify(p, UID)), p.fingerprint);
    for (const opts of [{ type: B.SIG.TEXT }, { hash: B.HASH.SHA512 }, { extraHashed: [B.subpacket(100, new Uint8Array([1]))] }]) {
      expect(gpgVerify(B.detachedSignature(p, DATA, opts).packet, DATA).lines).toMatch(/^\[GNUPG:\] GOODSIG /m);
    }
  });

  it("gpg's own re-export of a builder key (old-format packets, armored or not) reads as the same key", async () => {
    const p = edKey();
    const s = edKey(T0 + 5);
    const data = withUid(p, B.certify(p, UID, { expires: 400 * DAY }), B.subkeyPacket(s), B.bindSubkey(p, s));
    gpgView(data, p.fingerprint);
    const ours = await usable(data);
    for (const args of [['--export'], ['--armor', '--export']]) {
      const r = spawnSync('gpg', ['--homedir', home!.dir, '--batch', ...args, p.fingerprint], { env: { ...process.env, GNUPGHOME: home!.dir } });
      expect(r.stdout.length).toBeGreaterThan(100);
      const theirs = await usable(new Uint8Array(r.stdout));
      expect(gpgKeyToDict(theirs)).toEqual(gpgKeyToDict(ours));
      expect(theirs.validityPeriod).toBe(400 * DAY);
      expect([...theirs.subkeys.keys()]).toEqual([s.fingerprint]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('key expiration: the most recent valid self-signature decides (RFC 4880 §5.2.3.6)', () => {
  it('a 1-day expiry re-certified later with none: the key no longer expires', async () => {
    const p = edKey();
    const data = withUid(p, B.certify(p, UID, { expires: DAY }), B.certify(p, UID, { created: T0 + 100 }));
    const key = await usable(data);
    expect(key.validityPeriod).toBeUndefined();
    await verifyGpgSignature(B.detachedSignature(p, DATA).entry, key, DATA, { now: at(T0 + 1000 * DAY) });
    corroborate(data, p.fingerprint, (v) => expect(v).toMatchObject({ validity: '-', expires: undefined }));
  });

  it('the order of the packets does not matter, the creation times do', async () => {
    const p = edKey();
    const data = withUid(p, B.certify(p, UID, { created: T0 + 100 }), B.certify(p, UID, { expires: DAY }));
    expect((await usable(data)).validityPeriod).toBeUndefined();
  });

  it('re-certified later with a longer expiry: that one, counted from the KEY creation', async () => {
    const p = edKey();
    const data = withUid(p, B.certify(p, UID, { expires: DAY }), B.certify(p, UID, { created: T0 + 5 * DAY, expires: 10 * DAY }));
    const key = await usable(data);
    expect(key.validityPeriod).toBe(10 * DAY);
    expect(key.creationTime).toBe(T0);
    corroborate(data, p.fingerprint, (v) => expect(v?.expires).toBe(T0 + 10 * DAY));
  });

  it('a newer self-signature that does not verify is ignored', async () => {
    const p = edKey();
    const data = withUid(p, B.certify(p, UID, { expires: DAY }), B.certify(p, UID, { created: T0 + 100, corrupt: true }));
    expect((await usable(data)).validityPeriod).toBe(DAY);
    corroborate(data, p.fingerprint, (v) => expect(v?.expires).toBe(T0 + DAY));
  });

  it('a newer "self-signature" made by another key claiming to be the key is ignored', async () => {
    const p = edKey();
    const other = edKey();
    const forged = B.certify(p, UID, { signer: other, created: T0 + 100, hashed: [B.sp.created(T0 + 100), B.sp.issuerFpr(p)] });
    expect((await usable(withUid(p, B.certify(p, UID, { expires: DAY }), forged))).validityPeriod).toBe(DAY);
  });

  it("the primary user id's self-signature takes precedence over a newer one on another user id", async () => {
    // (gpg 2.2 differs here: it takes the newest self-signature that has an expiration, 10 days.)
    const p = edKey();
    const data = B.concat(
      B.keyPacket(p),
      B.userIdPacket(UID), B.certify(p, UID, { expires: DAY, primaryUid: true }),
      B.userIdPacket(UID2), B.certify(p, UID2, { created: T0 + 100, expires: 10 * DAY }),
    );
    expect((await usable(data)).validityPeriod).toBe(DAY);
    // Without the primary flag, the newest one decides.
    const q = edKey();
    const plain = B.concat(B.keyPacket(q), B.userIdPacket(UID), B.certify(q, UID, { expires: DAY }), B.userIdPacket(UID2), B.certify(q, UID2, { created: T0 + 100, expires: 10 * DAY }));
    expect((await usable(plain)).validityPeriod).toBe(10 * DAY);
  });

  it('a primary-user-id flag in a SUPERSEDED self-signature no longer counts: the newest self-signature on that user id decides', async () => {
    // One user id: certified with the primary flag and no expiry, then re-certified later with a 1-day expiry and
    // no primary flag. The most recent self-signature (the only current one) says the key expires after a day.
    const p = edKey();
    const data = withUid(p, B.certify(p, UID, { primaryUid: true }), B.certify(p, UID, { created: T0 + 100, expires: DAY }));
    corroborate(data, p.fingerprint, (v) => expect(v).toMatchObject({ validity: 'e', expires: T0 + DAY }));
    const key = await usable(data);
    expect(key.validityPeriod).toBe(DAY);
    expect((await failure(verifyGpgSignature(B.detachedSignature(p, DATA).entry, key, DATA, { now: at(T0 + 2 * DAY) }))).code).toBe('KEY_EXPIRED');
  });

  it('a self-signature with an unknown CRITICAL subpacket is void (§5.2.3.1), so it cannot lift an expiry', async () => {
    const p = edKey();
    const unknownCritical = B.subpacket(100, new Uint8Array([1]), true);
    const data = withUid(p, B.certify(p, UID, { expires: DAY }), B.certify(p, UID, { created: T0 + 100, extraHashed: [unknownCritical] }));
    // gpg: "assuming bad signature from key ... due to an unknown critical bit".
    corroborate(data, p.fingerprint, (v) => expect(v?.expires).toBe(T0 + DAY));
    expect((await usable(data)).validityPeriod).toBe(DAY);
  });

  it('an expiration subpacket in the UNHASHED area is ignored', async () => {
    const p = edKey();
    const data = withUid(p, B.certify(p, UID, { unhashed: [B.sp.issuer(p), B.sp.keyExpires(DAY)] }));
    expect((await usable(data)).validityPeriod).toBeUndefined();
    corroborate(data, p.fingerprint, (v) => expect(v?.expires).toBeUndefined());
    // ...nor can an unhashed expiration shorten a hashed one.
    const q = edKey();
    expect((await usable(withUid(q, B.certify(q, UID, { expires: 10 * DAY, unhashed: [B.sp.keyExpires(DAY)] })))).validityPeriod).toBe(10 * DAY);
  });

  it('a direct-key signature (0x1f) newer than the user id certification sets the expiry', async () => {
    const p = edKey();
    const direct = B.signature(p, B.SIG.DIRECT_KEY, B.keyFrame(p), { created: T0 + 100, extraHashed: [B.sp.keyExpires(DAY)] }).packet;
    const data = B.concat(B.keyPacket(p), direct, B.userIdPacket(UID), B.certify(p, UID));
    expect((await usable(data)).validityPeriod).toBe(DAY);
    corroborate(data, p.fingerprint, (v) => expect(v?.expires).toBe(T0 + DAY));
  });

  it('expiry is checked at verification time: before it passes, after it KEY_EXPIRED (for the key and its subkeys)', async () => {
    const p = edKey();
    const s = edKey(T0 + 10);
    const key = await usable(withUid(p, B.certify(p, UID, { expires: DAY }), B.subkeyPacket(s), B.bindSubkey(p, s)));
    expect(key.validityPeriod).toBe(DAY);
    expect(key.subkeys.get(s.fingerprint)?.validityPeriod).toBeUndefined();
    for (const signer of [p, s]) {
      const { entry } = B.detachedSignature(signer, DATA, { created: T0 + 60 });
      await verifyGpgSignature(entry, key, DATA, { now: at(T0 + DAY - 1) });
      const err = await failure(verifyGpgSignature(entry, key, DATA, { now: at(T0 + DAY + 1) }));
      // The subkey itself never expires, but its primary key has: refused too.
      expect(err).toMatchObject({ code: 'KEY_EXPIRED', keyid: p.fingerprint });
    }
  });

  it("a subkey's expiry counts from the SUBKEY's creation", async () => {
    const p = edKey();
    const s = edKey(T0 + 500);
    const data = withUid(p, B.certify(p, UID), B.subkeyPacket(s), B.bindSubkey(p, s, { expires: 100 }));
    const key = await usable(data);
    expect(key.subkeys.get(s.fingerprint)).toMatchObject({ creationTime: T0 + 500, validityPeriod: 100 });
    const { entry } = B.detachedSignature(s, DATA, { created: T0 + 510 });
    await verifyGpgSignature(entry, key, DATA, { now: at(T0 + 590) });
    expect(await failure(verifyGpgSignature(entry, key, DATA, { now: at(T0 + 610) }))).toMatchObject({ code: 'KEY_EXPIRED', keyid: s.fingerprint });
    corroborate(data, p.fingerprint, (v) => expect(v?.subkeys[0]).toMatchObject({ validity: 'e', expires: T0 + 600 }));
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('subkeys: bindings, back-signatures and key flags', () => {
  /** A key with one signing subkey bound by `binding` (default: correct), and the subkey. */
  function withSubkey(binding?: (p: B.TestKey, s: B.TestKey) => Uint8Array | Uint8Array[]) {
    const p = edKey();
    const s = edKey(T0 + 5);
    const bound = binding ? binding(p, s) : B.bindSubkey(p, s);
    return { p, s, data: withUid(p, B.certify(p, UID), B.subkeyPacket(s), ...(Array.isArray(bound) ? bound : [bound])) };
  }

  it('a correctly bound signing subkey is listed and its signatures count for the master key', async () => {
    const { p, s, data } = withSubkey();
    const key = await usable(data);
    expect([...key.subkeys.keys()]).toEqual([s.fingerprint]);
    expect((await gpgKeyFromExport(data, s.fingerprint)).keyid).toBe(p.fingerprint);
    expect((await gpgKeyFromExport(data, s.keyid)).keyid).toBe(p.fingerprint);
    await verifyGpgSignature(B.detachedSignature(s, DATA).entry, key, DATA, { now: at(T0 + DAY) });
  });

  const leftOutCases: [string, (p: B.TestKey, s: B.TestKey) => Uint8Array | Uint8Array[], RegExp][] = [
    ['bound by another key (its own issuer)', (p, s) => B.bindSubkey(p, s, { signer: edKey() }), /no valid binding signature/],
    ['bound by another key claiming to be the primary', (p, s) => {
      const other = edKey();
      return B.bindSubkey(p, s, { signer: other, hashed: [B.sp.created(T0 + 5), B.sp.issuerFpr(p)], unhashed: [B.sp.issuer(p)] });
    }, /no valid binding signature/],
    ['with a corrupted binding signature', (p, s) => B.bindSubkey(p, s, { corrupt: true }), /no valid binding signature/],
    ['without a binding signature', () => [], /no valid binding signature/],
    ["with another subkey's (valid) binding signature", (p) => B.bindSubkey(p, edKey(T0 + 5)), /no valid binding signature/],
    ['with a binding of the wrong type (0x19 by the primary)', (p, s) => B.signature(p, B.SIG.PRIMARY_KEY_BINDING, B.concat(B.keyFrame(p), B.keyFrame(s)), { extraHashed: [B.sp.keyFlags(B.FLAG.SIGN)] }).packet, /no valid binding signature/],
    ['signing, without the back-signature (0x19)', (p, s) => B.bindSubkey(p, s, { backsig: 'none' }), /back-signature/],
    ['with a back-signature that does not verify', (p, s) => B.bindSubkey(p, s, { backsig: 'corrupt' }), /back-signature/],
    ['with a back-signature made by the primary instead of the subkey', (p, s) => B.bindSubkey(p, s, { backsig: 'by-primary' }), /back-signature/],
    ['with key flags without signing (encryption)', (p, s) => B.bindSubkey(p, s, { flags: B.FLAG.ENCRYPT_COMMS | B.FLAG.ENCRYPT_STORAGE }), /signing flag/],
    ['with key flags without signing (authentication)', (p, s) => B.bindSubkey(p, s, { flags: B.FLAG.AUTH, backsig: 'ok' }), /signing flag/],
    ['without a key flags subpacket', (p, s) => B.bindSubkey(p, s, { flags: null, backsig: 'ok' }), /signing flag/],
    ['whose NEWEST binding drops the signing flag', (p, s) => [B.bindSubkey(p, s), B.bindSubkey(p, s, { created: T0 + 100, flags: B.FLAG.ENCRYPT_COMMS })], /signing flag/],
    ['that is revoked (0x28)', (p, s) => [B.bindSubkey(p, s), B.revokeSubkey(p, s, { created: T0 + 100 })], /revoked/],
    ['with a binding whose unknown critical subpacket voids it', (p, s) => B.bindSubkey(p, s, { extraHashed: [B.subpacket(100, new Uint8Array([1]), true)] }), /binding/],
  ];

  it.each(leftOutCases)('a subkey %s is left out, and asking for it says why', async (_name, binding, why) => {
    const { p, s, data } = withSubkey(binding);
    const found = await single(data);
    expect(found.key?.keyid).toBe(p.fingerprint);
    expect(found.key!.subkeys.size).toBe(0);
    expect(found.leftOut.get(s.fingerprint)).toMatch(why);
    for (const id of [s.fingerprint, s.keyid, s.keyid.toUpperCase()]) {
      const err = await failure(gpgKeyFromExport(data, id));
      expect(err).toMatchObject({ code: 'KEY', keyid: s.fingerprint });
      expect(err.message).toContain(s.fingerprint);
      expect(err.message).toMatch(why);
    }
    // The master key itself is fine.
    expect((await gpgKeyFromExport(data, p.fingerprint)).subkeys.size).toBe(0);
  });

  it('a valid back-signature in the unhashed area is accepted (it authenticates itself)', async () => {
    const { s, data } = withSubkey((p, s) => B.bindSubkey(p, s, { backsig: 'unhashed' }));
    expect([...(await usable(data)).subkeys.keys()]).toEqual([s.fingerprint]);
  });

  it('a revocation (0x28) that does not verify, or by another key, does not drop the subkey', async () => {
    for (const revocation of [
      (p: B.TestKey, s: B.TestKey) => B.revokeSubkey(p, s, { created: T0 + 100, corrupt: true }),
      (p: B.TestKey, s: B.TestKey) => B.signature(edKey(), B.SIG.SUBKEY_REVOCATION, B.concat(B.keyFrame(p), B.keyFrame(s)), { created: T0 + 100 }).packet,
    ]) {
      const { s, data } = withSubkey((p, s) => [B.bindSubkey(p, s), revocation(p, s)]);
      expect([...(await usable(data)).subkeys.keys()]).toEqual([s.fingerprint]);
    }
  });

  it("a non-signing subkey's signatures are not accepted for the master key (the entry names a key not in key.subkeys)", async () => {
    for (const flags of [B.FLAG.ENCRYPT_COMMS, null]) {
      const { p, s, data } = withSubkey((p, s) => B.bindSubkey(p, s, { flags, backsig: 'ok' }));
      const key = await gpgKeyFromExport(data, p.fingerprint);
      expect(key.subkeys.has(s.fingerprint)).toBe(false);
      // A perfectly valid signature by the subkey, named by the subkey's fingerprint...
      const { entry } = B.detachedSignature(s, DATA, { created: T0 + 60 });
      expect(entry.keyid).toBe(s.fingerprint);
      // ...is checked against the master key (the reference's fallback) and so does not verify.
      expect(await failure(verifyGpgSignature(entry, key, DATA, { now: at(T0 + DAY) }))).toMatchObject({ code: 'SIGNATURE', keyid: s.fingerprint });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('revocation and missing self-signatures', () => {
  it('a key revocation (0x20) by the key itself refuses the key', async () => {
    const p = edKey();
    const data = B.concat(B.keyPacket(p), B.revokeKey(p, { created: T0 + 100 }), B.userIdPacket(UID), B.certify(p, UID));
    const found = await single(data);
    expect(found.key).toBeUndefined();
    expect(found.refused).toMatch(/revoked/);
    const err = await failure(gpgKeyFromExport(data));
    expect(err).toMatchObject({ code: 'KEY', keyid: p.fingerprint });
    expect(err.message).toMatch(/revoked/);
    await expect(gpgKeyFromExport(data, p.keyid)).rejects.toMatchObject({ code: 'KEY', message: expect.stringMatching(/revoked/) });
    corroborate(data, p.fingerprint, (v) => expect(v?.validity).toBe('r'));
  });

  it('a key revocation that does not verify, or is made by another key, is ignored', async () => {
    const p = edKey();
    const bad = B.concat(B.keyPacket(p), B.revokeKey(p, { created: T0 + 100, corrupt: true }), B.userIdPacket(UID), B.certify(p, UID));
    expect((await usable(bad)).keyid).toBe(p.fingerprint);
    corroborate(bad, p.fingerprint, (v) => expect(v?.validity).toBe('-'));
    const q = edKey();
    const byOther = B.concat(B.keyPacket(q), B.revokeKey(q, { created: T0 + 100, signer: edKey() }), B.userIdPacket(UID), B.certify(q, UID));
    expect((await usable(byOther)).keyid).toBe(q.fingerprint);
  });

  it('a key revocation over ANOTHER key (valid signature, wrong key hashed) is ignored', async () => {
    const p = edKey();
    const other = edKey();
    const misdirected = B.signature(p, B.SIG.KEY_REVOCATION, B.keyFrame(other), { created: T0 + 100 }).packet;
    expect((await usable(B.concat(B.keyPacket(p), misdirected, B.userIdPacket(UID), B.certify(p, UID)))).keyid).toBe(p.fingerprint);
  });

  const unsigned: [string, (p: B.TestKey) => Uint8Array][] = [
    ['no signature at all', (p) => withUid(p)],
    ['no user id and no signature', (p) => B.keyPacket(p)],
    ['only a corrupted self-signature', (p) => withUid(p, B.certify(p, UID, { corrupt: true }))],
    ['only a certification by another key', (p) => withUid(p, B.certify(p, UID, { signer: edKey() }))],
    ['a self-signature over another user id', (p) => withUid(p, B.signature(p, B.SIG.CERT_POSITIVE, B.concat(B.keyFrame(p), B.uidFrame(UID2))).packet)],
    ['a self-signature of the wrong type (binary document)', (p) => withUid(p, B.signature(p, B.SIG.BINARY, B.concat(B.keyFrame(p), B.uidFrame(UID))).packet)],
    ['a self-signature with an MD5 hash', (p) => withUid(p, B.certify(p, UID, { hash: B.HASH.MD5 }))],
  ];

  it.each(unsigned)('a key with %s is refused', async (_name, build) => {
    const p = edKey();
    const data = build(p);
    const found = await single(data);
    expect(found).toMatchObject({ fingerprint: p.fingerprint, refused: expect.stringMatching(/no valid self-signature/) });
    expect(found.key).toBeUndefined();
    expect(await failure(gpgKeyFromExport(data, p.fingerprint))).toMatchObject({ code: 'KEY', keyid: p.fingerprint });
  });

  it('a self-signature with SHA-1 (as old keys have) is still a self-signature', async () => {
    const p = edKey();
    expect((await usable(withUid(p, B.certify(p, UID, { hash: B.HASH.SHA1, expires: DAY })))).validityPeriod).toBe(DAY);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('signature entries ({keyid, other_headers, signature})', () => {
  const p = edKey();
  const s = edKey(T0 + 5);
  const exported = withUid(p, B.certify(p, UID), B.subkeyPacket(s), B.bindSubkey(p, s));
  const now = { now: at(T0 + DAY) };
  let key: GpgPublicKey;
  beforeAll(async () => {
    key = await usable(exported);
  });
  const refused = async (entry: B.SignatureEntry, why: RegExp, data = DATA) => {
    const err = await failure(verifyGpgSignature(entry, key, data, now));
    expect(err).toMatchObject({ code: 'SIGNATURE', keyid: entry.keyid });
    expect(err.message).toMatch(why);
  };

  it("the builder's entries are what signatureFromPacket reads from the packet, and they verify (master and subkey)", async () => {
    for (const signer of [p, s]) {
      const sig = B.detachedSignature(signer, DATA, { created: T0 + 60 });
      expect(signatureFromPacket(sig.packet)).toEqual(sig.entry);
      await verifyGpgSignature(sig.entry, key, DATA, now);
      await refused(sig.entry, /does not verify/, new TextEncoder().encode('other bytes'));
    }
  });

  it('a signature by the subkey named as the master (or the other way round) does not verify', async () => {
    await refused({ ...B.detachedSignature(s, DATA).entry, keyid: p.fingerprint }, /does not verify/);
    await refused({ ...B.detachedSignature(p, DATA).entry, keyid: s.fingerprint }, /does not verify/);
  });

  it('a text signature (0x01) is refused, even over data without line ends', async () => {
    const data = new TextEncoder().encode('no line ends');
    await refused(B.detachedSignature(p, data, { type: B.SIG.TEXT }).entry, /type 0x01/, data);
  });

  it('other signature types over the same bytes are refused (0x10 certification, 0x1f direct key)', async () => {
    await refused(B.detachedSignature(p, DATA, { type: B.SIG.CERT_GENERIC }).entry, /type 0x10/);
    await refused(B.detachedSignature(p, DATA, { type: B.SIG.DIRECT_KEY }).entry, /type 0x1f/);
  });

  it('SHA-512, SHA-384 and SHA-1 are refused (the reference verifies SHA-256 only)', async () => {
    await refused(B.detachedSignature(p, DATA, { hash: B.HASH.SHA512 }).entry, /SHA-512/);
    await refused(B.detachedSignature(s, DATA, { hash: B.HASH.SHA384 }).entry, /SHA-384/);
    await refused(B.detachedSignature(p, DATA, { hash: B.HASH.SHA1 }).entry, /SHA-1/);
  });

  it('an unknown CRITICAL hashed subpacket is refused; the same subpacket not critical is fine', async () => {
    await refused(B.detachedSignature(p, DATA, { extraHashed: [B.subpacket(100, new Uint8Array([1]), true)] }).entry, /critical subpacket of unknown type 100/);
    await verifyGpgSignature(B.detachedSignature(p, DATA, { extraHashed: [B.subpacket(100, new Uint8Array([1]))] }).entry, key, DATA, now);
  });

  it('an expired signature (subpacket 3) is refused; before its expiry it verifies', async () => {
    const { entry } = B.detachedSignature(p, DATA, { created: T0 + 100, extraHashed: [B.sp.sigExpires(3600)] });
    await verifyGpgSignature(entry, key, DATA, { now: at(T0 + 100 + 3599) });
    expect(await failure(verifyGpgSignature(entry, key, DATA, { now: at(T0 + 100 + 3601) }))).toMatchObject({ code: 'SIGNATURE', message: expect.stringMatching(/expired/) });
    // 0 means "never expires" (§5.2.3.10).
    await verifyGpgSignature(B.detachedSignature(p, DATA, { extraHashed: [B.sp.sigExpires(0)] }).entry, key, DATA, { now: at(T0 + 9999 * DAY) });
  });

  it('other_headers with trailing bytes (even ones the signature covers) is refused', async () => {
    const { entry } = B.detachedSignature(p, DATA);
    await refused({ ...entry, other_headers: `${entry.other_headers}00` }, /malformed|after the hashed subpackets/);
    // A signature really made over headers with trailing bytes: the math holds, the shape does not.
    const junk = B.detachedSignature(p, DATA, { junkAfterHashed: new Uint8Array([0x00, 0x01]) }).entry;
    expect(junk.other_headers.endsWith('0001')).toBe(true);
    await refused(junk, /after the hashed subpackets/);
    await refused({ ...entry, other_headers: entry.other_headers.slice(0, -2) }, /malformed|truncated/);
  });

  it('an EdDSA entry with a signature of the wrong length, or not hex, is refused', async () => {
    const { entry } = B.detachedSignature(p, DATA);
    await refused({ ...entry, signature: entry.signature.slice(2) }, /does not verify/);
    await refused({ ...entry, signature: `${entry.signature}00` }, /does not verify/);
    await refused({ ...entry, signature: 'zz' }, /not hex/);
  });

  it('an RSA entry verifies with an RSA key, and not with the EdDSA key', async () => {
    const rsa = B.rsaKey(T0);
    const rsaKey = await usable(withUid(rsa, B.certify(rsa, UID)));
    const sig = B.detachedSignature(rsa, DATA);
    expect(signatureFromPacket(sig.packet)).toEqual(sig.entry);
    await verifyGpgSignature(sig.entry, rsaKey, DATA);
    await refused({ ...sig.entry, keyid: p.fingerprint }, /RSA signature, but the key is EDDSA/);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('gpgKeyFromDict: the key id must be the key', () => {
  const dictOf = (k: B.TestKey, extra: Record<string, unknown> = {}) => ({
    method: k.algorithm === 22 ? 'pgp+eddsa-ed25519' : 'pgp+rsa-pkcsv1.5',
    type: k.algorithm === 22 ? 'eddsa' : 'rsa',
    hashes: ['pgp+SHA2'],
    creation_time: k.created,
    keyid: k.fingerprint,
    keyval: { private: '', public: k.public },
    ...extra,
  });

  it('a dict whose keyid is the fingerprint of creation_time + key material is accepted (EdDSA and RSA)', () => {
    for (const k of [edKey(T0 + 7), B.rsaKey(T0 + 7, 1024)]) {
      expect(gpgKeyFromDict(dictOf(k))).toMatchObject({ keyid: k.fingerprint, creationTime: T0 + 7, public: k.public });
    }
  });

  it('a keyid that is not that fingerprint is refused (another key, another creation time, upper/short ids)', () => {
    const k = edKey(T0 + 7);
    const other = edKey(T0 + 7);
    for (const dict of [
      dictOf(k, { keyid: other.fingerprint }),
      dictOf(k, { creation_time: T0 + 8 }),
      dictOf(k, { keyval: { private: '', public: other.public } }),
      dictOf(k, { keyid: k.keyid }),
    ]) {
      expect(() => gpgKeyFromDict(dict)).toThrow(InTotoError);
      try {
        gpgKeyFromDict(dict);
      } catch (e) {
        expect(e).toMatchObject({ code: 'KEY' });
        expect((e as Error).message).toMatch(/different key/);
      }
    }
    // Case does not matter for a hex id.
    expect(gpgKeyFromDict(dictOf(k, { keyid: k.fingerprint.toUpperCase() })).keyid).toBe(k.fingerprint);
  });

  it('without creation_time the declared keyid is taken as it is (as the reference takes older layouts)', () => {
    const k = edKey();
    const { creation_time: _, ...dict } = dictOf(k, { keyid: 'ab'.repeat(20) });
    const key = gpgKeyFromDict(dict);
    expect(key.keyid).toBe('ab'.repeat(20));
    expect(key.creationTime).toBeUndefined();
  });

  it('subkeys must be listed under their own (checked) id', () => {
    const p = edKey();
    const s = edKey(T0 + 5);
    const t = edKey(T0 + 6);
    expect([...gpgKeyFromDict(dictOf(p, { subkeys: { [s.fingerprint]: dictOf(s) } })).subkeys.keys()]).toEqual([s.fingerprint]);
    const err = (dict: unknown) => {
      try {
        gpgKeyFromDict(dict);
      } catch (e) {
        expect(e).toBeInstanceOf(InTotoError);
        return e as InTotoError;
      }
      throw new Error('accepted');
    };
    expect(err(dictOf(p, { subkeys: { [t.fingerprint]: dictOf(s) } }))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/another id/) });
    expect(err(dictOf(p, { subkeys: { [s.fingerprint]: dictOf(s, { keyid: s.fingerprint, creation_time: T0 + 6 }) } }))).toMatchObject({ code: 'KEY' });
    // Even without creation_time, the id it is listed under must be the id it declares.
    const { creation_time: _, ...bare } = dictOf(s);
    expect(err(dictOf(p, { subkeys: { [t.fingerprint]: bare } }))).toMatchObject({ code: 'KEY' });
  });

  it('a dict written from an imported key reads back as the same key', async () => {
    const p = edKey();
    const s = edKey(T0 + 5);
    const key = await usable(withUid(p, B.certify(p, UID, { expires: 3 * DAY }), B.subkeyPacket(s), B.bindSubkey(p, s, { expires: DAY })));
    const back = gpgKeyFromDict(JSON.parse(JSON.stringify(gpgKeyToDict(key))));
    expect(gpgKeyToDict(back)).toEqual(gpgKeyToDict(key));
    expect(back).toMatchObject({ keyid: p.fingerprint, validityPeriod: 3 * DAY });
    expect(back.subkeys.get(s.fingerprint)).toMatchObject({ creationTime: T0 + 5, validityPeriod: DAY });
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('malformed and mutated packets', () => {
  // Fixed seeds: the mutation test below must see the same bytes every run.
  const p = B.ed25519Key(T0, 90_001);
  const s = B.ed25519Key(T0 + 5, 90_002);
  const e = B.ed25519Key(T0 + 6, 90_003);
  const parts = [
    B.keyPacket(p),
    B.userIdPacket(UID),
    B.certify(p, UID, { expires: 100 * DAY, primaryUid: true }),
    B.subkeyPacket(s),
    B.bindSubkey(p, s, { expires: 50 * DAY }),
    B.subkeyPacket(e),
    B.bindSubkey(p, e, { flags: B.FLAG.ENCRYPT_COMMS }),
  ];
  const exported = B.concat(...parts);
  let original: GpgPublicKey;
  beforeAll(async () => {
    original = await usable(exported);
    expect([...original.subkeys.keys()]).toEqual([s.fingerprint]);
  });

  it('every truncation: at a packet boundary a (smaller) key, anywhere else a KEY error naming the truncation', async () => {
    const boundaries = new Set<number>();
    let end = 0;
    for (const part of parts) boundaries.add((end += part.length));
    for (let n = 0; n < exported.length; n++) {
      const cut = exported.subarray(0, n);
      if (n === 0) {
        expect(await failure(readExportedKeys(cut))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/no OpenPGP public key/) });
      } else if (boundaries.has(n)) {
        const found = await single(cut);
        expect(found.fingerprint).toBe(p.fingerprint);
      } else {
        const err = await failure(readExportedKeys(cut));
        expect(err.code).toBe('KEY');
        expect(err.message).toMatch(/truncated/);
      }
    }
  });

  it('partial body lengths and indeterminate lengths are KEY errors', async () => {
    // The user id packet in new format with a partial first chunk (0xE0: 2^0 = 1 octet), then the rest.
    const uid = new TextEncoder().encode(UID);
    const partialUid = B.concat(new Uint8Array([0xc0 | B.TAG.USER_ID, 0xe0]), uid.subarray(0, 1), new Uint8Array([uid.length - 1]), uid.subarray(1));
    const err = await failure(readExportedKeys(B.concat(parts[0]!, partialUid, parts[2]!)));
    expect(err).toMatchObject({ code: 'KEY', message: expect.stringMatching(/partial body length/) });
    // Old format, length type 3 (indeterminate).
    const indeterminate = B.concat(new Uint8Array([0x80 | (B.TAG.USER_ID << 2) | 3]), uid);
    expect(await failure(readExportedKeys(B.concat(parts[0]!, indeterminate)))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/indeterminate/) });
    // Old-format packets with exact lengths are fine.
    expect((await usable(B.concat(B.keyPacket(p, 'old'), B.packet(B.TAG.USER_ID, uid, 'old'), parts[2]!))).keyid).toBe(p.fingerprint);
  });

  it('data that does not start with a public key, or is not OpenPGP, is a KEY error', async () => {
    expect(await failure(readExportedKeys(B.concat(parts[1]!, exported)))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/does not start with a public key/) });
    expect((await failure(readExportedKeys(new TextEncoder().encode('{"keyid": "abc"}')))).code).toBe('KEY');
    expect((await failure(readExportedKeys(new Uint8Array([0x99, 0xff, 0xff])))).code).toBe('KEY');
  });

  it('armor: the right CRC-24 reads, a wrong one (or broken base64, or no END line) is a KEY error', async () => {
    const good = B.armor(exported);
    expect(gpgKeyToDict(await usable(good))).toEqual(gpgKeyToDict(original));
    expect(gpgKeyToDict(await usable(new TextEncoder().encode(good)))).toEqual(gpgKeyToDict(original));
    const crc = B.crc24(exported);
    for (const bad of [B.armor(exported, undefined, crc ^ 1), B.armor(exported, undefined, crc ^ 0x800000)]) {
      expect(await failure(readExportedKeys(bad))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/CRC-24/) });
      expect((await failure(readExportedKeys(new TextEncoder().encode(bad)))).code).toBe('KEY');
    }
    expect((await failure(readExportedKeys(good.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')))).code).toBe('KEY');
    expect((await failure(readExportedKeys(good.replace(/-----END[^\n]*\n/, '')))).code).toBe('KEY');
    // A byte changed inside the armored data (base64 still valid): the CRC catches it.
    const lines = good.split('\n');
    const body = lines[3]!;
    lines[3] = body.slice(0, 20) + (body[20] === 'A' ? 'B' : 'A') + body.slice(21);
    expect(await failure(readExportedKeys(lines.join('\n')))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/CRC-24/) });
  });

  /** mulberry32: a small seeded PRNG, so failures reproduce. */
  function prng(seed: number): (n: number) => number {
    let a = seed >>> 0;
    return (n: number) => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
    };
  }

  /** Every usable key in `keys` must be the original, unaltered (its material, expiry and subkeys). */
  function expectOnlyOriginal(keys: readonly ExportedKey[], what: string): number {
    let valid = 0;
    for (const k of keys) {
      if (!k.key) continue;
      valid++;
      expect(k.key.keyid, what).toBe(original.keyid);
      expect(k.fingerprint, what).toBe(original.keyid);
      expect(k.key.public, what).toEqual(original.public);
      expect(k.key.creationTime, what).toBe(original.creationTime);
      expect(k.key.validityPeriod, what).toBe(original.validityPeriod);
      for (const [id, sub] of k.key.subkeys) expect(gpgKeyToDict(sub), `${what}: subkey ${id}`).toEqual(gpgKeyToDict(original.subkeys.get(id)!));
    }
    return valid;
  }

  it('500 seeded random byte changes over a valid export (100 of them in packet headers): only KEY errors, and any key still accepted is exactly the original', async () => {
    const rand = prng(0x1b2c3d4);
    const starts: number[] = [];
    let end = 0;
    for (const part of parts) starts.push(end), (end += part.length);
    const outcomes = { error: 0, refused: 0, valid: 0, subkeyDropped: 0 };
    for (let i = 0; i < 500; i++) {
      const mutated = exported.slice();
      // Mostly anywhere; every fifth change in a packet header (tag and length octets), where parsing breaks.
      const at = i % 5 === 4 ? starts[Math.floor(rand(starts.length))]! + Math.floor(rand(3)) : Math.floor(rand(mutated.length));
      const xor = 1 + Math.floor(rand(255));
      mutated[at] ^= xor;
      const what = `byte ${at} ^= 0x${xor.toString(16)}`;
      let keys: ExportedKey[];
      try {
        keys = await readExportedKeys(mutated);
      } catch (err) {
        expect(err, what).toBeInstanceOf(InTotoError);
        expect((err as InTotoError).code, what).toBe('KEY');
        outcomes.error++;
        continue;
      }
      const valid = expectOnlyOriginal(keys, what);
      if (valid === 0) outcomes.refused++;
      else {
        outcomes.valid++;
        if (keys.some((k) => k.key && k.key.subkeys.size === 0)) outcomes.subkeyDropped++;
      }
    }
    // The changes reach every outcome (so the test is not vacuous): { error: 62, refused: 132, valid: 306, subkeyDropped: 194 } with this seed.
    expect(outcomes.error).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(50);
    expect(outcomes.valid).toBeGreaterThan(50);
    expect(outcomes.subkeyDropped).toBeGreaterThan(20);
  });

  it('100 seeded random changes over the armored export: only KEY errors, never another key', async () => {
    const rand = prng(0x5eed);
    const text = new TextEncoder().encode(B.armor(exported));
    for (let i = 0; i < 100; i++) {
      const mutated = text.slice();
      const at = Math.floor(rand(mutated.length));
      mutated[at] = 32 + Math.floor(rand(95));
      try {
        expectOnlyOriginal(await readExportedKeys(mutated), `armored byte ${at}`);
      } catch (err) {
        if (!(err instanceof InTotoError)) throw err;
        expect(err.code).toBe('KEY');
      }
    }
  });

  it('a packet whose length claims more than there is, or a huge five-octet length, is a KEY error', async () => {
    const huge = B.concat(new Uint8Array([0xc0 | B.TAG.USER_ID, 0xff, 0x7f, 0xff, 0xff, 0xff]), new Uint8Array(8));
    expect(await failure(readExportedKeys(B.concat(parts[0]!, huge)))).toMatchObject({ code: 'KEY', message: expect.stringMatching(/truncated/) });
    // A signature packet whose hashed subpacket area overruns the packet: that signature certifies nothing.
    const cert = parts[2]!.slice();
    cert[2 + 4] = 0xff; // first octet of the hashed subpacket length
    expect((await single(B.concat(parts[0]!, parts[1]!, cert))).refused).toMatch(/no valid self-signature/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Found in review: each of these once went the wrong way.

describe('revocations that cannot be checked hold (fail closed)', () => {
  it('a key revocation with a hash this verifier does not check (MD5) refuses the key; one with SHA-224 is checked', async () => {
    const p = edKey();
    const md5 = B.concat(B.keyPacket(p), B.revokeKey(p, { created: T0 + 100, hash: B.HASH.MD5 }), B.userIdPacket(UID), B.certify(p, UID));
    const found = await single(md5);
    expect(found.key).toBeUndefined();
    expect(found.refused).toMatch(/revocation signature this runtime cannot check/);
    // SHA-224 is checked (node:crypto): valid revokes, corrupt is ignored.
    const sha224 = B.concat(B.keyPacket(p), B.revokeKey(p, { created: T0 + 100, hash: B.HASH.SHA224 }), B.userIdPacket(UID), B.certify(p, UID));
    expect((await single(sha224)).refused).toMatch(/the key is revoked/);
    const r = B.rsaKey(T0);
    const rsa224 = B.concat(B.keyPacket(r), B.revokeKey(r, { created: T0 + 100, hash: B.HASH.SHA224 }), B.userIdPacket(UID), B.certify(r, UID));
    expect((await single(rsa224)).refused).toMatch(/the key is revoked/);
    const corrupt = B.concat(B.keyPacket(p), B.revokeKey(p, { created: T0 + 100, hash: B.HASH.SHA224, corrupt: true }), B.userIdPacket(UID), B.certify(p, UID));
    expect((await usable(corrupt)).keyid).toBe(p.fingerprint);
  });

  it('a revocation in a signature version we cannot read refuses the key, drops the subkey, voids the user id', async () => {
    const p = edKey();
    const s = edKey(T0 + 60);
    // A version 3 signature packet body: version, hashed length 5, type, time, key id, algorithms, left 16, MPI.
    const v3 = (type: number) => B.packet(B.TAG.SIGNATURE, B.concat(new Uint8Array([3, 5, type]), B.u32(T0 + 100), new Uint8Array(8), new Uint8Array([22, 8, 0, 0]), B.mpi(new Uint8Array([1]))));
    expect((await single(B.concat(B.keyPacket(p), v3(B.SIG.KEY_REVOCATION), B.userIdPacket(UID), B.certify(p, UID)))).refused).toMatch(/revocation signature that cannot be read/);
    const sub = await single(withUid(p, B.certify(p, UID), B.subkeyPacket(s), B.bindSubkey(p, s), v3(B.SIG.SUBKEY_REVOCATION)));
    expect(sub.key!.subkeys.size).toBe(0);
    expect(sub.leftOut.get(s.fingerprint)).toMatch(/cannot be read/);
    // The only user id's revocation cannot be read: no certification counts, so no self-signature is left.
    expect((await single(withUid(p, B.certify(p, UID), v3(B.SIG.CERT_REVOCATION)))).refused).toMatch(/no valid self-signature/);
  });
});

describe('costs and keyrings', () => {
  it('many signatures over a huge user id cost linear time: refused past a budget, quickly', async () => {
    const p = edKey();
    const uid = 'x'.repeat(1 << 20);
    const bogus = Array.from({ length: 200 }, () => B.certify(p, uid, { corrupt: true }));
    const started = performance.now();
    const err = await failure(readExportedKeys(B.concat(B.keyPacket(p), B.userIdPacket(uid), ...bogus)));
    expect(err).toMatchObject({ code: 'KEY', message: expect.stringMatching(/more than 64 MiB/) });
    // Not a timing assertion on a benchmark: 200 x 1 MiB would take tens of seconds without the budget.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('a keyring (trust packets after the key, each user id and each signature) reads as the export does', async () => {
    const p = edKey();
    const s = edKey(T0 + 60);
    const trust = B.packet(12, new Uint8Array([0, 0]));
    const exported = withUid(p, B.certify(p, UID), B.subkeyPacket(s), B.bindSubkey(p, s));
    const ring = B.concat(B.keyPacket(p), trust, B.userIdPacket(UID), trust, B.certify(p, UID), trust, B.subkeyPacket(s), trust, B.bindSubkey(p, s), trust);
    expect(gpgKeyToDict(await usable(ring))).toEqual(gpgKeyToDict(await usable(exported)));
    expect((await usable(ring)).subkeys.has(s.fingerprint)).toBe(true);
  });

  it('a signing subkey of another algorithm than its primary is left out: the reference\'s dict could not hold it', async () => {
    const r = B.rsaKey(T0);
    const s = edKey(T0 + 60);
    const found = await single(B.concat(B.keyPacket(r), B.userIdPacket(UID), B.certify(r, UID), B.subkeyPacket(s), B.bindSubkey(r, s)));
    expect(found.key!.subkeys.size).toBe(0);
    expect(found.leftOut.get(s.fingerprint)).toMatch(/is not its primary key's/);
    // What we write reads back.
    expect(gpgKeyToDict(gpgKeyFromDict(gpgKeyToDict(found.key!)))).toEqual(gpgKeyToDict(found.key!));
  });
});

describe('one functionary, however the layout lists its OpenPGP key, counts once', () => {
  it('a subkey also listed as a key of its own, and its master: one link under both names does not make a threshold of 2', async () => {
    const { generateKeyPair } = await import('../../bindings/keys/crypto/index.js');
    const { createMetablock, serializeEnvelope, signEnvelope } = await import('../../bindings/metadata/envelope.js');
    const { computeKeyid, privateKeyFromEd25519Seed } = await import('../../bindings/keys/keys.js');
    const { verify } = await import('../../bindings/verify/verify.js');
    const { initEngine } = await import('../../bindings/engine.js');
    await initEngine();
    const owner = await generateKeyPair('ed25519');
    const a = edKey();
    const sSeed = new Uint8Array(32).fill(7);
    const s = B.ed25519Key(T0 + 60, sSeed);
    const master = await usable(withUid(a, B.certify(a, UID), B.subkeyPacket(s), B.bindSubkey(a, s)));
    const masterDict = gpgKeyToDict(master);
    const subDict = masterDict.subkeys![s.fingerprint]!;
    const layout = (pubkeys: string[], keys: Record<string, unknown>) =>
      signEnvelope(
        createMetablock({
          _type: 'layout',
          expires: '2099-01-01T00:00:00Z',
          readme: '',
          keys,
          steps: [{ _type: 'step', name: 'build', pubkeys, threshold: 2, expected_command: [], expected_materials: [], expected_products: [['ALLOW', '*']] }],
          inspect: [],
        }),
        owner,
      );
    const link = createMetablock({ _type: 'link', name: 'build', materials: {}, products: {}, byproducts: {}, command: [], environment: {} });
    const signed = serializeEnvelope({ ...link, signatures: [{ ...B.detachedSignature(s, link.signedBytes, { created: T0 + 120 }).entry }] });
    const links = new Map([
      [`build.${s.fingerprint.slice(0, 8)}.link`, signed],
      [`build.${a.fingerprint.slice(0, 8)}.link`, signed],
    ]);
    const verdict = await verify({
      layout: serializeEnvelope(await layout([s.fingerprint, a.fingerprint], { [a.fingerprint]: masterDict, [s.fingerprint]: subDict })),
      layoutKeys: [owner.publicKey],
      links,
      now: at(T0 + DAY),
    });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures.map((f) => f.code)).toEqual(['THRESHOLD']);
    expect(verdict.warnings.map((w) => w.code)).toContain('LINK_IGNORED');
    // The same key as a securesystemslib ed25519 key and as the OpenPGP subkey: still one functionary.
    const asKeyFile = { keytype: 'ed25519', scheme: 'ed25519', keyid_hash_algorithms: ['sha256', 'sha512'], keyval: { public: subDict.keyval.public.q } };
    const sslibKey = privateKeyFromEd25519Seed(sSeed);
    expect(sslibKey.public).toBe(subDict.keyval.public.q);
    const sslibId = computeKeyid(sslibKey);
    const plain = await signEnvelope(link, sslibKey);
    const both = await verify({
      layout: serializeEnvelope(await layout([sslibId, a.fingerprint], { [a.fingerprint]: masterDict, [sslibId]: { ...asKeyFile, keyid: sslibId } })),
      layoutKeys: [owner.publicKey],
      links: new Map([
        [`build.${sslibId.slice(0, 8)}.link`, serializeEnvelope(plain)],
        [`build.${a.fingerprint.slice(0, 8)}.link`, signed],
      ]),
      now: at(T0 + DAY),
    });
    expect(both.failures.map((f) => f.code)).toEqual(['THRESHOLD']);
  });

  it('two subkeys of one key: counted once, and a second valid link that records other artifacts is LINKS_DISAGREE', async () => {
    const { generateKeyPair } = await import('../../bindings/keys/crypto/index.js');
    const { createMetablock, serializeEnvelope, signEnvelope } = await import('../../bindings/metadata/envelope.js');
    const { verify } = await import('../../bindings/verify/verify.js');
    const { initEngine } = await import('../../bindings/engine.js');
    await initEngine();
    const owner = await generateKeyPair('ed25519');
    const a = edKey();
    const s1 = edKey(T0 + 60);
    const s2 = edKey(T0 + 120);
    const master = await usable(withUid(a, B.certify(a, UID), B.subkeyPacket(s1), B.bindSubkey(a, s1), B.subkeyPacket(s2), B.bindSubkey(a, s2)));
    expect([...master.subkeys.keys()].sort()).toEqual([s1.fingerprint, s2.fingerprint].sort());
    const layout = await signEnvelope(
      createMetablock({
        _type: 'layout',
        expires: '2099-01-01T00:00:00Z',
        readme: '',
        keys: { [a.fingerprint]: gpgKeyToDict(master) },
        steps: [{ _type: 'step', name: 'build', pubkeys: [s1.fingerprint, s2.fingerprint], threshold: 2, expected_command: [], expected_materials: [], expected_products: [['ALLOW', '*']] }],
        inspect: [],
      }),
      owner,
    );
    const linkBy = (sub: B.TestKey, digest: string) => {
      const link = createMetablock({ _type: 'link', name: 'build', materials: {}, products: { app: { sha256: digest.repeat(64) } }, byproducts: {}, command: [], environment: {} });
      return serializeEnvelope({ ...link, signatures: [B.detachedSignature(sub, link.signedBytes, { created: T0 + 180 }).entry] });
    };
    const run = (second: string) =>
      verify({
        layout: serializeEnvelope(layout),
        layoutKeys: [owner.publicKey],
        links: new Map([
          [`build.${s1.fingerprint.slice(0, 8)}.link`, linkBy(s1, 'a')],
          [`build.${s2.fingerprint.slice(0, 8)}.link`, linkBy(s2, second)],
        ]),
        now: at(T0 + DAY),
      });
    const disagree = await run('b');
    expect(disagree.failures.map((f) => f.code).sort()).toEqual(['LINKS_DISAGREE', 'THRESHOLD']);
    expect(disagree.warnings.map((w) => w.code)).toContain('LINK_IGNORED');
    // Agreeing, the two subkeys are still one functionary: the threshold of 2 is not met.
    expect((await run('a')).failures.map((f) => f.code)).toEqual(['THRESHOLD']);
  });
});
