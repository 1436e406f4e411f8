/**
 * The conformance suite: one file, run unchanged in Node (vitest), Deno (deno test), headless Chromium and
 * workerd. It imports nothing: each runtime's harness passes the package as that runtime resolves it (the
 * `exports` map's node / deno / browser / workerd entry) and a way to read the vectors (files, fetch, or a
 * posted bundle). Plain JavaScript, so the same bytes run everywhere without a compile step.
 *
 * The vectors (test/conformance/vectors/, made once by generate.mjs with Debian's in-toto 1.3.1):
 * canonical JSON, signatures for every key type as Metablock and DSSE, and supply-chain scenarios
 * with pre-recorded inspection links, each with the verdict we must give and the reference's; and OpenPGP
 * (vectors/openpgp/): keys exported by gpg with the reference's key dicts, gpg signatures as the reference's
 * signature objects, and chains recorded and signed with in-toto-run/in-toto-sign --gpg.
 *
 * Types: suite.d.ts (this file stays plain JavaScript with no imports, types included, so that every
 * runtime loads it as it is).
 *
 * @typedef {any} Lib   the package's namespace (bindings/index.ts and the entry's additions)
 * @typedef {(path: string) => Promise<Uint8Array>} Read   reads a file under vectors/
 * @typedef {{ group: string, name: string, skip?: () => Promise<string | undefined>, run: () => Promise<void> }} Case
 *   `skip`, when present, is asked first (hosts whose frameworks register tests up front ask it before
 *   registering): a reason to skip (a crypto backend this runtime lacks), or undefined to run.
 */

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

/** @param {unknown} cond @param {string} message @returns {asserts cond} */
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** @param {unknown} a @param {unknown} b @param {string} what */
function equal(a, b, what) {
  if (a !== b) throw new Error(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function sameBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** @param {string} b64 */
function fromBase64(b64) {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** @param {Uint8Array} bytes */
async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Runs `fn`, which must throw an InTotoError with `code`.
 * @param {() => unknown} fn @param {string} code @param {string} what
 */
async function refuses(fn, code, what) {
  try {
    await fn();
  } catch (error) {
    const err = /** @type {{ name?: string, code?: string, message?: string }} */ (error);
    if (err?.name === 'InTotoError' && err.code === code) return;
    throw new Error(`${what}: expected an InTotoError ${code}, got ${err?.name} ${err?.code ?? ''}: ${err?.message}`);
  }
  throw new Error(`${what}: expected an InTotoError ${code}, but it was accepted`);
}

/** JSON with object keys sorted at every level: compares documents whatever order their keys came in. @param {unknown} value @returns {string} */
function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** @param {unknown} a @param {unknown} b @param {string} what */
function sameJson(a, b, what) {
  const [x, y] = [sortedJson(a), sortedJson(b)];
  if (x !== y) throw new Error(`${what}: expected ${y}, got ${x}`);
}

/** @param {Read} read @param {string} path */
async function readJson(read, path) {
  return JSON.parse(text.decode(await read(path)));
}

/**
 * The suite's cases for one runtime.
 * @param {Lib} lib   the package, as this runtime imports it
 * @param {Read} read
 * @returns {Promise<Case[]>}
 */
export async function conformanceCases(lib, read) {
  await lib.initEngine();
  const [canonical, signatures, scenarios, openpgp] = await Promise.all([
    readJson(read, 'canonical.json'),
    readJson(read, 'signatures.json'),
    readJson(read, 'scenarios.json'),
    readJson(read, 'openpgp/openpgp.json'),
  ]);
  return [
    ...engineCases(lib),
    ...canonicalCases(lib, canonical.vectors),
    ...signatureCases(lib, read, signatures.vectors),
    ...scenarioCases(lib, read, scenarios.scenarios),
    ...openpgpCases(lib, read, openpgp),
    ...attestationCases(lib),
    ...(await sigstoreCases(lib, read)),
  ];
}

/**
 * Sigstore bundles (issue 18): the sigstore-conformance suite's bundle-verify cases, each by file and by digest,
 * verified in the runtime itself (WebCrypto where there is no node:crypto). Not committed here (not ours to
 * commit): the runtime harnesses copy them into the app's vectors/sigstore/ when IN_TOTO_SIGSTORE_VECTORS names
 * the folder (CI does); without it there are none. `lib.sigstore` is the package's `/sigstore` path.
 * @param {Lib} lib @param {Read} read @returns {Promise<Case[]>}
 */
async function sigstoreCases(lib, read) {
  let index;
  try {
    index = await readJson(read, 'sigstore/index.json');
  } catch {
    // Not given (a clone without ../shared): no cases. The runtime harnesses fail when IN_TOTO_SIGSTORE_VECTORS is
    // set and no sigstore case ran (scripts/runtimes/app.mjs), so they cannot vanish in CI.
    return [];
  }
  const sigstore = lib.sigstore;
  /** @type {Case[]} */
  const cases = [];
  for (const c of index.cases) {
    for (const form of ['file', 'digest']) {
      cases.push({
        group: 'sigstore',
        name: `${c.name} (by ${form}): ${c.expect === 'pass' ? 'verifies' : 'refused'}`,
        async run() {
          assert(sigstore && typeof sigstore.verifySigstoreBundle === 'function', 'the harness passes the package\'s /sigstore path as lib.sigstore');
          const artifactBytes = await read(c.artifact);
          let outcome;
          try {
            const bundle = sigstore.readSigstoreBundle(await read(c.bundle));
            const root = sigstore.readTrustedRoot(await read(c.root));
            const policy = c.key ? { key: lib.loadPublicKey(await read(c.key)) } : { identity: { san: c.identity, issuer: c.issuer } };
            const artifact = form === 'file' ? { bytes: artifactBytes } : { sha256: new Uint8Array(await crypto.subtle.digest('SHA-256', artifactBytes)) };
            await sigstore.verifySigstoreBundle(bundle, root, artifact, policy);
            outcome = 'pass';
          } catch (error) {
            if (!(error instanceof lib.InTotoError)) throw error;
            outcome = `fail (${error.code}: ${error.message})`;
          }
          assert(outcome.startsWith(c.expect), `expected ${c.expect}, got ${outcome}`);
        },
      });
    }
  }
  return cases;
}

/**
 * in-toto attestations (Statements in DSSE), made in the runtime itself with its own crypto backend: strict
 * Statements, ordinary-JSON payloads, and a classic layout fed by attestation links.
 * @param {Lib} lib @returns {Case[]}
 */
function attestationCases(lib) {
  const sha = (c) => ({ sha256: c.repeat(64) });
  const statement = (extra = {}) => ({ _type: lib.STATEMENT_V1, subject: [{ name: 'app', digest: sha('a') }], predicateType: 'https://example.com/p/v1', predicate: {}, ...extra });
  return [
    {
      group: 'attestations',
      name: 'Statements are read strictly, each refusal a FORMAT error naming its field',
      async run() {
        equal(lib.readStatement(statement()).predicateType, 'https://example.com/p/v1', 'a valid Statement');
        await refuses(() => lib.readStatement(statement({ _type: undefined, type: lib.STATEMENT_V1 })), 'FORMAT', '"type" for "_type"');
        await refuses(() => lib.readStatement(statement({ subject: [] })), 'FORMAT', 'no subject');
        await refuses(() => lib.readStatement(statement({ subject: [{ name: 'app', digest: { sha256: 'A'.repeat(64) } }] })), 'FORMAT', 'an upper-case digest');
        assert(!lib.digestsMatch({ md5: 'a'.repeat(32) }, { md5: 'a'.repeat(32) }), 'md5 alone is never trusted');
      },
    },
    {
      group: 'attestations',
      name: 'payloads are ordinary JSON: fractions kept exact, duplicate keys refused',
      async run() {
        const value = lib.parseOrdinaryJson('{"score": 0.10, "n": 3}');
        equal(value.score.text, '0.10', 'the fraction, as written');
        equal(value.n, 3, 'an integer');
        await refuses(() => lib.parseOrdinaryJson('{"a": 1, "a": 2}'), 'JSON', 'a duplicate key');
      },
    },
    {
      group: 'attestations',
      name: 'a chain of link attestations verifies, and a tampered one fails with RULE_DISALLOW',
      async run() {
        const [owner, alice, bob] = await Promise.all([lib.generateKeyPair('ed25519'), lib.generateKeyPair('ed25519'), lib.generateKeyPair('ed25519')]);
        const step = (name, key, materials, products) => ({ _type: 'step', name, threshold: 1, pubkeys: [key.keyid], expected_command: [], expected_materials: materials, expected_products: products });
        const layout = lib.serializeEnvelope(
          await lib.signEnvelope(
            lib.createMetablock({
              _type: 'layout', expires: '2100-01-01T00:00:00Z', readme: '', inspect: [],
              keys: { [alice.keyid]: lib.keyToDict(alice.publicKey), [bob.keyid]: lib.keyToDict(bob.publicKey) },
              steps: [step('write', alice, [], [['CREATE', 'src.c'], ['DISALLOW', '*']]), step('build', bob, [['MATCH', 'src.c', 'WITH', 'PRODUCTS', 'FROM', 'write'], ['DISALLOW', '*']], [['CREATE', 'app'], ['DISALLOW', '*']])],
            }),
            owner,
          ),
        );
        const link = (name, materials, products) => ({ _type: 'link', name, command: [], materials, products, byproducts: {}, environment: {} });
        const attest = async (key, l) => lib.serializeEnvelope(await lib.signEnvelope(lib.createDsse(lib.linkToStatement(l)), key));
        const chain = async (digest) =>
          lib.verify({
            layout,
            layoutKeys: [owner.publicKey],
            links: new Map([
              [lib.linkFileName('write', alice.keyid), await attest(alice, link('write', {}, { 'src.c': sha('1') }))],
              [lib.linkFileName('build', bob.keyid), await attest(bob, link('build', { 'src.c': sha(digest) }, { app: sha('2') }))],
            ]),
          });
        const good = await chain('1');
        equal(good.failures.length, 0, `failures of the good chain: ${JSON.stringify(good.failures)}`);
        const bad = await chain('9');
        equal(bad.failures.map((f) => f.code).join(), 'RULE_DISALLOW', 'the tampered chain');
      },
    },
  ];
}

/** @param {Lib} lib @returns {Case[]} */
function engineCases(lib) {
  return [
    {
      group: 'engine',
      name: 'loads, and a trap restarts it in place',
      async run() {
        const engine = lib.createEngine();
        equal(text.decode(engine.canonicalize('{"b":1,"a":2}')), '{"a":2,"b":1}', 'before the trap');
        let caught;
        try {
          // A region above 2 GiB: the engine answers this host bug with a trap.
          engine.invoke((raw) => raw.input_ptr(0xfffffff0));
        } catch (error) {
          caught = /** @type {{ code?: string }} */ (error);
        }
        equal(caught?.code, 'ENGINE', 'the trap');
        await engine.ready();
        equal(text.decode(engine.canonicalize('{"d":1,"c":2}')), '{"c":2,"d":1}', 'after the restart');
      },
    },
    {
      group: 'engine',
      name: 'the process-wide engine and an engine of its own agree',
      async run() {
        const doc = utf8.encode('{"z":[1,{"y":"é","x":null}],"a":true}');
        assert(sameBytes(lib.canonicalize(doc), lib.createEngine({ maxDepth: 5 }).canonicalize(doc)), 'different canonical bytes');
      },
    },
  ];
}

/**
 * @param {Lib} lib
 * @param {{ name: string, input: string | { base64: string }, canonical?: string, error?: string }[]} vectors
 * @returns {Case[]}
 */
function canonicalCases(lib, vectors) {
  return vectors.map((v) => ({
    group: 'canonical JSON',
    name: v.name,
    async run() {
      const bytes = typeof v.input === 'string' ? utf8.encode(v.input) : fromBase64(v.input.base64);
      if (v.error !== undefined) {
        await refuses(() => lib.canonicalize(bytes), v.error, v.name);
        return;
      }
      const out = lib.canonicalize(bytes);
      assert(sameBytes(out, utf8.encode(/** @type {string} */ (v.canonical))), `${v.name}: got ${text.decode(out)}, expected ${v.canonical}`);
      // Strict parsing agrees with the canonical form.
      equal(JSON.stringify(lib.parseJson(bytes)), JSON.stringify(JSON.parse(text.decode(bytes))), `${v.name}: parseJson`);
    },
  }));
}

/**
 * @param {Lib} lib @param {Read} read
 * @param {{ name: string, file: string, key: string, keyType: 'ed25519' | 'rsa' | 'ecdsa', envelope: string, keyid?: string, valid: boolean }[]} vectors
 * @returns {Case[]}
 */
function signatureCases(lib, read, vectors) {
  /** @type {Case[]} */
  const cases = vectors.map((v) => ({
    group: 'signatures',
    name: v.name,
    async run() {
      const envelope = lib.readEnvelope(await read(`signatures/${v.file}`));
      equal(envelope.kind, v.envelope, 'envelope kind');
      const key = lib.loadPublicKey(await read(`signatures/${v.key}`), { keyType: v.keyType });
      if (v.keyid !== undefined) equal(key.keyid, v.keyid, 'key id (as the reference computes it)');
      if (v.valid) await lib.verifyEnvelope(envelope, [key]);
      else await refuses(() => lib.verifyEnvelope(envelope, [key]), 'SIGNATURE', v.name);
    },
  }));
  // Every crypto backend on the raw signatures. Where this runtime lacks a backend (node:crypto outside Node
  // and Deno) or a backend does not do a key type (noble: ed25519 only), the case checks that it says so with
  // an UNSUPPORTED error instead of answering: never a verdict from a backend that cannot give one.
  for (const backend of lib.BACKENDS) {
    for (const v of vectors.filter((x) => x.keyid !== undefined)) {
      cases.push({
        group: `signatures (${backend} backend)`,
        name: v.name,
        async run() {
          const envelope = lib.readEnvelope(await read(`signatures/${v.file}`));
          const key = lib.loadPublicKey(await read(`signatures/${v.key}`), { keyType: v.keyType });
          const entry = envelope.signatures[0];
          assert(entry, 'no signature');
          const sig = envelope.kind === 'metablock' ? lib.fromHex(entry.sig) : lib.fromBase64(entry.sig);
          assert(sig, 'undecodable signature');
          let answer;
          try {
            const impl = await lib.getBackend(backend);
            answer = await impl.verify(key, envelope.signedBytes, sig);
          } catch (error) {
            const err = /** @type {{ code?: string }} */ (error);
            if (err?.code === 'UNSUPPORTED') return;
            throw error;
          }
          equal(answer, v.valid, `${backend} verify`);
        },
      });
    }
  }
  return cases;
}

/**
 * @typedef {{
 *   id: string, name: string, expect: 'pass' | 'fail', codes?: string[], warnings?: string[],
 *   layout: string, layoutKeys: { file: string, keyType: 'ed25519' | 'rsa' | 'ecdsa' }[], linkDir: string,
 *   inspections: 'links' | 'skip' | 'none', product?: string, files: string[],
 * }} Scenario
 */

/**
 * A scenario's verification inputs, read from its files: what any host passes to `verify()`.
 * @param {Lib} lib @param {Read} read @param {Scenario} s
 */
export async function scenarioInputs(lib, read, s) {
  const at = (/** @type {string} */ file) => read(`scenarios/${s.id}/${file}`);
  const prefix = s.linkDir === '.' ? '' : `${s.linkDir}/`;
  /** @type {Map<string, Uint8Array>} */
  const links = new Map();
  /** @type {Map<string, Uint8Array>} */
  const inspectionLinks = new Map();
  for (const file of s.files) {
    if (file.startsWith('inspections/')) inspectionLinks.set(file.slice('inspections/'.length), await at(file));
    else if (file.startsWith(prefix) && file.endsWith('.link')) links.set(file.slice(prefix.length), await at(file));
  }
  const options = {
    layout: await at(s.layout),
    layoutKeys: await Promise.all(s.layoutKeys.map(async (k) => lib.loadPublicKey(await at(k.file), { keyType: k.keyType }))),
    links,
    ...(s.inspections === 'links' ? { inspections: { links: inspectionLinks } } : s.inspections === 'skip' ? { inspections: 'skip' } : {}),
  };
  return { options, product: s.product === undefined ? undefined : { name: s.product, bytes: await at(s.product) } };
}

/**
 * Checks a verdict against what the scenario says we must report; returns a problem, or undefined.
 * @param {Scenario} s
 * @param {any} verdict   what verify() returned
 * @param {{ name: string, bytes: Uint8Array } | undefined} product
 */
export async function checkVerdict(s, verdict, product) {
  const got = verdict.passed ? 'pass' : 'fail';
  const failures = verdict.failures.map((f) => `[${f.code}] ${f.message}`).join('; ');
  if (got !== s.expect) return `expected ${s.expect}, got ${got}${failures ? `: ${failures}` : ''}`;
  const codes = verdict.failures.map((f) => f.code);
  for (const code of s.codes ?? []) if (!codes.includes(code)) return `expected a ${code} failure, got ${failures}`;
  const warnings = verdict.warnings.map((w) => w.code);
  for (const code of s.warnings ?? []) if (!warnings.includes(code)) return `expected a ${code} warning, got ${warnings.join(', ') || 'none'}`;
  if (product && verdict.passed) {
    // The product the person holds is the one the chain's last step produced.
    const expected = verdict.summary?.products[product.name]?.sha256;
    const found = await sha256Hex(product.bytes);
    if (expected !== found) return `product ${product.name}: the chain produced sha256 ${expected}, the file is ${found}`;
  }
  return undefined;
}

/** @param {Lib} lib @param {Read} read @param {Scenario[]} scenarios @returns {Case[]} */
function scenarioCases(lib, read, scenarios) {
  return scenarios.map((s) => ({
    group: 'scenarios',
    name: `${s.id}: ${s.name} (${s.expect})`,
    async run() {
      const { options, product } = await scenarioInputs(lib, read, s);
      const problem = await checkVerdict(s, await lib.verify(options), product);
      if (problem) throw new Error(problem);
    },
  }));
}

/**
 * @typedef {{
 *   name: string, fingerprint: string, signingSubkeys: string[], armored: string, binary: string,
 *   dict: any, referenceDict?: any, note?: string,
 * }} PgpKeyVector
 * @typedef {{
 *   name: string, key: string, signer: string, packet: string, data: string, valid: boolean,
 *   signature: { keyid: string, other_headers: string, signature: string },
 * }} PgpSignatureVector
 * @typedef {Omit<Scenario, 'layoutKeys'> & {
 *   reference: { verdict: 'pass' | 'fail', said?: string }, note?: string, alsoAllowed?: string[], layoutKeys: { name: string, file: string }[],
 * }} PgpScenario
 * @typedef {{ now: string, keys: PgpKeyVector[], signatures: PgpSignatureVector[], scenarios: PgpScenario[] }} PgpVectors
 */

/**
 * OpenPGP, made by gpg and judged by the reference (vectors/openpgp/openpgp.json): keys imported from gpg's
 * export must be the reference's key dicts; gpg's signatures must read as the reference's signature objects
 * and verify (or not) as it says; chains signed with gpg must get the reference's verdict, for our reasons.
 * Every key the suite verifies with comes from the export or the layout, never from gpg.
 * @param {Lib} lib @param {Read} read @param {PgpVectors} vectors
 * @returns {Case[]}
 */
function openpgpCases(lib, read, vectors) {
  const now = new Date(vectors.now);
  const keys = new Map(vectors.keys.map((k) => [k.name, k]));
  /** @type {Case[]} */
  const cases = [];
  for (const k of vectors.keys) {
    for (const form of /** @type {const} */ (['armored', 'binary'])) {
      cases.push({
        group: 'OpenPGP keys',
        name: `${k.name}: gpg's ${form} export imports as the reference's key dict`,
        async run() {
          const data = await read(`openpgp/${k[form]}`);
          const key = await lib.gpgKeyFromExport(data);
          assert(lib.isGpgKey(key), 'not an OpenPGP key');
          equal(key.keyid, k.fingerprint, 'fingerprint');
          sameJson(lib.gpgKeyToDict(key), k.dict, 'key dict');
          if (k.referenceDict !== undefined) {
            // Where the reference's export leaves subkeys out (see the vector's note), the rest is its dict.
            const { subkeys, ...rest } = lib.gpgKeyToDict(key);
            const { subkeys: refSubkeys, ...refRest } = k.referenceDict;
            sameJson(rest, refRest, 'key dict without subkeys');
            for (const id of Object.keys(refSubkeys ?? {})) assert(subkeys?.[id] !== undefined, `subkey ${id} of the reference's dict is missing`);
          }
          equal(key.subkeys.size, k.signingSubkeys.length, 'signing subkeys');
          const found = await lib.readExportedKeys(data);
          equal(found.length, 1, 'keys in the export');
          equal(found[0].fingerprint, k.fingerprint, 'readExportedKeys fingerprint');
          equal(found[0].leftOut.size, 0, 'subkeys left out');
          for (const id of [k.fingerprint.slice(-16), ...k.signingSubkeys]) {
            equal((await lib.gpgKeyFromExport(data, id)).keyid, k.fingerprint, `the key found by id ${id}`);
          }
          if (form === 'armored') sameJson(lib.gpgKeyToDict(await lib.gpgKeyFromExport(text.decode(data))), k.dict, 'key dict from the armored text');
          await refuses(() => lib.gpgKeyFromExport(data, 'deadbeefdeadbeef'), 'KEY', 'a key id not in the export');
        },
      });
    }
    cases.push({
      group: 'OpenPGP keys',
      name: `${k.name}: the reference's key dict reads and writes back unchanged`,
      async run() {
        const key = lib.gpgKeyFromDict(k.dict);
        equal(key.keyid, k.fingerprint, 'fingerprint');
        sameJson(lib.gpgKeyToDict(key), k.dict, 'key dict');
        // A dict whose key material is not its id's is refused (the fingerprint is recomputed).
        const other = vectors.keys.find((x) => x.dict.type === k.dict.type && x.name !== k.name) ?? vectors.keys.find((x) => x.name !== k.name);
        assert(other, 'no other key');
        await refuses(() => lib.gpgKeyFromDict({ ...k.dict, keyval: other.dict.keyval, type: other.dict.type, method: other.dict.method, subkeys: undefined }), 'KEY', 'a dict with another key\'s numbers');
      },
    });
  }
  for (const v of vectors.signatures) {
    cases.push({
      group: 'OpenPGP signatures',
      name: v.name,
      async run() {
        const packet = fromBase64(v.packet);
        const data = fromBase64(v.data);
        sameJson(lib.signatureFromPacket(packet), v.signature, 'the signature object, as the reference reads the packet');
        equal(v.signature.keyid, v.signer, 'signer');
        const vector = keys.get(v.key);
        assert(vector, `no key ${v.key}`);
        // With the reference's dict, and with the key imported from gpg's export.
        for (const key of [lib.gpgKeyFromDict(vector.dict), await lib.gpgKeyFromExport(await read(`openpgp/${vector.armored}`))]) {
          if (v.valid) await lib.verifyGpgSignature(v.signature, key, data, { now });
          else await refuses(() => lib.verifyGpgSignature(v.signature, key, data, { now }), 'SIGNATURE', v.name);
        }
        // Another key (of the same kind where there is one) does not verify it.
        const other = vectors.keys.find((x) => x.name !== v.key && x.dict.type === vector.dict.type) ?? vectors.keys.find((x) => x.name !== v.key);
        assert(other, 'no other key');
        await refuses(() => lib.verifyGpgSignature(v.signature, lib.gpgKeyFromDict(other.dict), data, { now }), 'SIGNATURE', `${v.name} with key ${other.name}`);
      },
    });
  }
  for (const s of vectors.scenarios) {
    cases.push({
      group: 'OpenPGP scenarios',
      name: `${s.id}: ${s.name} (${s.expect}; reference ${s.reference.verdict})`,
      async run() {
        assert(s.reference.verdict === s.expect || s.note !== undefined, 'our verdict differs from the reference\'s without a note saying why');
        const at = (/** @type {string} */ file) => read(`openpgp/scenarios/${s.id}/${file}`);
        /** @type {Map<string, Uint8Array>} */
        const links = new Map();
        for (const file of s.files) if (file.endsWith('.link')) links.set(file, await at(file));
        assert(links.size > 0, 'no links');
        // The layout keys from gpg's export, as a person holding the owner's exported key has them.
        const layoutKeys = await Promise.all(s.layoutKeys.map(async (k) => lib.gpgKeyFromExport(await read(`openpgp/${k.file}`))));
        const verdict = await lib.verify({ layout: await at(s.layout), layoutKeys, links, now });
        const problem = await checkVerdict(s, verdict, undefined);
        if (problem) throw new Error(problem);
        // On failure, only failures of the expected kinds and their stated consequences (no unrelated KEY/FORMAT noise).
        const allowed = [...(s.codes ?? []), ...(s.alsoAllowed ?? [])];
        const unexpected = verdict.failures.filter((/** @type {{ code: string }} */ f) => !allowed.includes(f.code));
        if (unexpected.length > 0) throw new Error(`unexpected failures: ${unexpected.map((/** @type {{ code: string, message: string }} */ f) => `[${f.code}] ${f.message}`).join('; ')}`);
        if (s.expect === 'fail') assert(verdict.failures.length > 0 && (s.codes ?? []).length > 0, 'a failure without codes');
      },
    });
  }
  return cases;
}

/**
 * Runs cases one after another; a runner for hosts without a test framework (Chromium, workerd).
 * @param {Case[]} cases
 * @returns {Promise<{ passed: number, failed: number, skipped: number, results: { group: string, name: string, outcome: 'passed' | 'failed' | 'skipped', error?: string, ms: number }[] }>}
 */
export async function runCases(cases) {
  /** @type {{ group: string, name: string, outcome: 'passed' | 'failed' | 'skipped', error?: string, ms: number }[]} */
  const results = [];
  for (const c of cases) {
    const start = performance.now();
    try {
      const reason = await c.skip?.();
      if (reason === undefined) await c.run();
      results.push({ group: c.group, name: c.name, outcome: reason === undefined ? 'passed' : 'skipped', ms: performance.now() - start });
    } catch (error) {
      const err = /** @type {{ stack?: string, message?: string }} */ (error);
      results.push({ group: c.group, name: c.name, outcome: 'failed', error: String(err?.message ?? error), ms: performance.now() - start });
    }
  }
  const count = (/** @type {string} */ o) => results.filter((r) => r.outcome === o).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), results };
}
