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
    ...celCases(lib),
    ...(await celSpecCases(lib, read)),
    ...attestationLayoutCases(lib),
    ...(await attestationVerifierCases(lib, read)),
    ...vsaCases(lib),
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

/**
 * The package's `/attestations` path, which the harness passes as `lib.attestations`.
 * @param {Lib} lib
 */
function attestationsOf(lib) {
  const path = lib.attestations;
  assert(path && typeof path.verifyAttestationLayout === 'function' && typeof path.evaluateCel === 'function', 'the harness passes the package\'s /attestations path as lib.attestations');
  return path;
}

/**
 * A CEL value in the engine's typed JSON (`{ int: "1" }`, `{ double: "NaN" }`, `{ bytes: <base64> }`, `{ list: [...] }`,
 * `{ map: [[k, v], ...] }`: docs/ABI.md, "CEL"), as the `CelValue` evaluateCel takes and returns. cel-spec's tests
 * cross to the runtimes in this form (JSON has no bigint and no bytes).
 * @param {Record<string, any>} t @returns {any}
 */
export function celValueOf(t) {
  const [tag] = Object.keys(t);
  const x = t[tag];
  switch (tag) {
    case 'null': return { type: 'null' };
    case 'bool': return { type: 'bool', value: x };
    case 'int': case 'uint': return { type: tag, value: BigInt(x) };
    case 'double': return { type: 'double', value: x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x === '-0' ? -0 : Number(x) };
    case 'bytes': return { type: 'bytes', value: fromBase64(x) };
    case 'list': return { type: 'list', value: x.map(celValueOf) };
    case 'map': return { type: 'map', value: x.map((/** @type {[any, any]} */ [k, v]) => [celValueOf(k), celValueOf(v)]) };
    case 'string': case 'type': case 'timestamp': case 'duration': return { type: tag, value: x };
  }
  throw new Error(`not a typed CEL value: ${JSON.stringify(t)}`);
}

/** Two CEL values are the same (doubles: NaN equals NaN, as cel-spec's tests mean it; maps in any order). @param {any} a @param {any} b @returns {boolean} */
function sameCel(a, b) {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'null': return true;
    case 'double': return (Number.isNaN(a.value) && Number.isNaN(b.value)) || a.value === b.value;
    case 'bytes': return sameBytes(a.value, b.value);
    case 'list': return a.value.length === b.value.length && a.value.every((/** @type {any} */ x, /** @type {number} */ i) => sameCel(x, b.value[i]));
    case 'map': return a.value.length === b.value.length && a.value.every((/** @type {[any, any]} */ [k, v]) => b.value.some((/** @type {[any, any]} */ [k2, v2]) => sameCel(k, k2) && sameCel(v, v2)));
    default: return a.value === b.value;
  }
}

/** A CEL value as text, for messages. @param {any} v @returns {string} */
const celText = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `bytes(${x.length})` : x));

/**
 * @typedef {{ file: string, section: string, name: string, expression: string, bindings: Record<string, Record<string, any>>, expected: Record<string, any> }} CelSpecCase
 *   one of cel-spec's tests (tests/simple/testdata/<file>.textproto), converted by scripts/runtimes/cel-spec.mjs:
 *   `expected` is a typed value, or `{ error: true }` where the test expects an evaluation error.
 */

/**
 * Runs one converted cel-spec test: undefined when the outcome is the one expected, else what happened. A syntax error
 * (FORMAT) meets an expected error, as in test/interop/cel-conformance.test.ts.
 * @param {any} attestations   the package's /attestations path
 * @param {CelSpecCase} c
 * @returns {string | undefined}
 */
export function celSpecProblem(attestations, c) {
  const bindings = Object.fromEntries(Object.entries(c.bindings).map(([k, v]) => [k, celValueOf(v)]));
  const wantError = 'error' in c.expected;
  let result;
  try {
    result = attestations.evaluateCel(c.expression, bindings);
  } catch (error) {
    const err = /** @type {{ name?: string, code?: string, message?: string }} */ (error);
    if (err?.name === 'InTotoError' && err.code === 'FORMAT') return wantError ? undefined : `expected ${JSON.stringify(c.expected)}, got FORMAT: ${err.message}`;
    throw error;
  }
  if ('error' in result) return wantError ? undefined : `expected ${JSON.stringify(c.expected)}, got the error ${result.error}`;
  if (wantError) return `expected an error, got ${celText(result.value)}`;
  return sameCel(result.value, celValueOf(c.expected)) ? undefined : `expected ${JSON.stringify(c.expected)}, got ${celText(result.value)}`;
}

/**
 * cel-spec's conformance tests that pass in Node (IN_TOTO_CEL_VECTORS; not committed here): the runtime harnesses
 * convert them to `cel-spec/index.json` in the app's vectors, keeping those that pass in Node, and every runtime must
 * give each the same outcome. Without the file there are none (the harnesses then require none).
 * @param {Lib} lib @param {Read} read @returns {Promise<Case[]>}
 */
async function celSpecCases(lib, read) {
  let index;
  try {
    index = await readJson(read, 'cel-spec/index.json');
  } catch {
    return [];
  }
  return index.cases.map((/** @type {CelSpecCase} */ c) => ({
    group: 'cel-spec',
    name: `${c.file}/${c.section}/${c.name}`,
    async run() {
      const problem = celSpecProblem(attestationsOf(lib), c);
      if (problem) throw new Error(`${c.expression}: ${problem}`);
    },
  }));
}

/**
 * CEL in the engine without vectors: typed values in and out, JSON variables, CEL errors as results, a syntax error
 * as FORMAT, evaluateCelMany over one Statement, linear-time matches(), and hostile expressions refused as LIMIT or
 * FORMAT with the engine usable after.
 * @param {Lib} lib @returns {Case[]}
 */
function celCases(lib) {
  /** @param {any} result @param {any} expected @param {string} what */
  const value = (result, expected, what) => assert('value' in result && sameCel(result.value, expected), `${what}: expected ${celText(expected)}, got ${celText(result)}`);
  const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'app', digest: { sha256: 'a'.repeat(64) } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'refs/heads/main' } }, runDetails: { builder: { id: 'https://example.com/builder' } } } };
  return [
    {
      group: 'CEL',
      name: 'typed values: int, uint and double stay apart, bytes stay bytes, strings and lists',
      async run() {
        const { evaluateCel } = attestationsOf(lib);
        value(evaluateCel('x * 2 + 1', { x: { type: 'int', value: 9007199254740993n } }), { type: 'int', value: 18014398509481987n }, 'int beyond 2^53');
        value(evaluateCel('18446744073709551615u'), { type: 'uint', value: 18446744073709551615n }, 'the largest uint');
        value(evaluateCel('1.5 + 2.0'), { type: 'double', value: 3.5 }, 'double');
        value(evaluateCel("b'\\xff\\x00' + b", { b: { type: 'bytes', value: Uint8Array.of(1) } }), { type: 'bytes', value: Uint8Array.of(255, 0, 1) }, 'bytes');
        value(evaluateCel("'héllo'.size() == 5 && 'abc'.startsWith('ab') && [1, 2, 3].exists(v, v == 2)"), { type: 'bool', value: true }, 'strings and a macro');
        value(evaluateCel("{'a': [1u, 2u]}['a']"), { type: 'list', value: [{ type: 'uint', value: 1n }, { type: 'uint', value: 2n }] }, 'a map of lists');
        value(evaluateCel('x.a.b[1] == "y" && x.n > 2', { x: { json: { a: { b: ['x', 'y'] }, n: 3 } } }), { type: 'bool', value: true }, 'a JSON variable');
      },
    },
    {
      group: 'CEL',
      name: 'CEL errors are results, syntax errors FORMAT, a number no double holds refused',
      async run() {
        const { evaluateCel } = attestationsOf(lib);
        for (const expr of ['1 / 0', '9223372036854775807 + 1', 'x.missing', "'a' + 1"]) {
          const result = evaluateCel(expr, { x: { json: {} } });
          assert('error' in result, `${expr}: expected a CEL error, got ${celText(result)}`);
        }
        await refuses(() => evaluateCel('1 +'), 'FORMAT', 'a syntax error');
        await refuses(() => evaluateCel('x', { x: { type: 'int', value: 1n << 64n } }), 'FORMAT', 'an int beyond 64 bits');
        await refuses(() => evaluateCel('x', { x: { json: Infinity } }), 'FORMAT', 'a JSON number beyond doubles');
      },
    },
    {
      group: 'CEL',
      name: "evaluateCelMany: a layout's rules over one Statement, each outcome its own",
      async run() {
        const { evaluateCelMany } = attestationsOf(lib);
        const outcomes = evaluateCelMany(
          ["predicate.buildDefinition.buildType == 'https://example.com/build/v1'", 'size(subject) == 1', 'predicate.runDetails.nope', 'subject[0].digest.sha256.matches("^[a-f0-9]{64}$")', '(('],
          { predicate: { json: statement.predicate }, subject: { json: statement.subject }, predicateType: { type: 'string', value: statement.predicateType } },
        );
        equal(outcomes.length, 5, 'outcomes');
        value(outcomes[0], { type: 'bool', value: true }, 'buildType');
        value(outcomes[1], { type: 'bool', value: true }, 'size(subject)');
        assert('error' in outcomes[2], `a missing field: ${celText(outcomes[2])}`);
        value(outcomes[3], { type: 'bool', value: true }, 'matches');
        assert(outcomes[4] instanceof lib.InTotoError && outcomes[4].code === 'FORMAT', `a syntax error in its slot: ${celText(outcomes[4])}`);
      },
    },
    {
      group: 'CEL',
      name: 'hostile: deep nesting, an oversized expression, a deep JSON variable (LIMIT or FORMAT) and a backtracking pattern; the engine usable after',
      async run() {
        const { evaluateCel, evaluateCelMany } = attestationsOf(lib);
        /** @param {() => unknown} fn @param {string} what */
        const limited = async (fn, what) => {
          try {
            fn();
          } catch (error) {
            const err = /** @type {{ name?: string, code?: string, message?: string }} */ (error);
            if (err?.name === 'InTotoError' && (err.code === 'LIMIT' || err.code === 'FORMAT')) return;
            throw new Error(`${what}: expected an InTotoError LIMIT or FORMAT, got ${err?.name} ${err?.code ?? ''}: ${err?.message}`);
          }
          throw new Error(`${what}: expected an InTotoError LIMIT or FORMAT, but it was evaluated`);
        };
        await limited(() => evaluateCel(`${'('.repeat(20_000)}1${')'.repeat(20_000)}`), '20,000 nested parentheses');
        await limited(() => evaluateCel(`${'['.repeat(20_000)}${']'.repeat(20_000)}`), '20,000 nested lists');
        await limited(() => evaluateCel(`${'!'.repeat(50_000)}true`), '50,000 negations');
        await limited(() => evaluateCel(`1${' + 1'.repeat(30_000)}`), 'an expression over 100,000 bytes');
        // Deeper than the engine reads JSON (and shallow enough for the host's JSON.stringify in every runtime).
        let deep = {};
        for (let i = 0; i < 1_000; i++) deep = { a: deep };
        await limited(() => evaluateCel('x.a.a.a != null', { x: { json: deep } }), 'a JSON variable 1,000 deep');
        const many = evaluateCelMany([`${'('.repeat(20_000)}1${')'.repeat(20_000)}`, '1 + 1'], {});
        assert(many[0] instanceof lib.InTotoError && ['LIMIT', 'FORMAT'].includes(many[0].code), `evaluateCelMany, the nested one: ${celText(many[0])}`);
        value(many[1], { type: 'int', value: 2n }, 'evaluateCelMany, the next one');
        // RE2 semantics: no backtracking, so (a+)+b over 20,000 a's answers at once.
        const started = performance.now();
        value(evaluateCel("s.matches('(a+)+b')", { s: { type: 'string', value: 'a'.repeat(20_000) } }), { type: 'bool', value: false }, 'a backtracking pattern');
        assert(performance.now() - started < 5_000, `matches() took ${Math.round(performance.now() - started)} ms`);
        // And the engine still answers, CEL and the rest.
        value(evaluateCel('[1, 2, 3].map(x, x * x)[2]'), { type: 'int', value: 9n }, 'after the hostile ones');
        equal(text.decode(lib.canonicalize('{"b":1,"a":2}')), '{"a":2,"b":1}', 'canonical JSON after the hostile ones');
      },
    },
  ];
}

/**
 * A step's artifacts as a link records them: a Statement made by linkToStatement, signed as DSSE by `key`.
 * @param {Lib} lib @param {any} key @param {string} name @param {string[]} command @param {Record<string, any>} materials @param {Record<string, any>} products
 */
async function linkAttestation(lib, key, name, command, materials, products) {
  const statement = lib.linkToStatement({ _type: 'link', name, command, materials, products, byproducts: {}, environment: {} });
  return lib.serializeEnvelope(await lib.signEnvelope(lib.createDsse(statement), key));
}

/**
 * Attestation layouts made in the runtime itself (no vectors): a YAML layout (the `yaml` dependency, loaded as this
 * runtime loads it), a signed JSON layout, attestations signed with this runtime's crypto; the verdicts and their codes.
 * @param {Lib} lib @returns {Case[]}
 */
function attestationLayoutCases(lib) {
  const sha = (/** @type {string} */ c) => ({ sha256: c.repeat(64) });
  /** @param {any} key */
  const functionary = (key) => {
    const d = lib.keyToDict(key.publicKey);
    return { keyType: d.keytype, scheme: d.scheme, keyVal: { public: d.keyval.public }, ...(d.keyid_hash_algorithms ? { keyIDHashAlgorithms: d.keyid_hash_algorithms } : {}) };
  };
  /** @param {any} key */
  const steps = (key) => [
    { name: 'write', expectedProducts: ['CREATE src.c', 'DISALLOW *'], expectedPredicates: [{ predicateType: lib.LINK_V03, functionaries: [key.keyid] }] },
    {
      name: 'build',
      expectedMaterials: ['MATCH src.c WITH products FROM write', 'DISALLOW *'],
      expectedProducts: ['CREATE app', 'DISALLOW *'],
      expectedPredicates: [{ predicateType: lib.LINK_V03, functionaries: [key.keyid], expectedAttributes: [{ rule: "predicate.command == ['make', 'app']" }, { rule: "subject.exists(s, s.name == 'app')" }] }],
    },
  ];
  /** @param {any} key @param {{ command?: string[], src?: string }} [change] */
  const attestations = async (key, change = {}) =>
    new Map([
      [`write.${key.keyid.slice(0, 8)}.json`, await linkAttestation(lib, key, 'write', [], {}, { 'src.c': sha('1') })],
      [`build.${key.keyid.slice(0, 8)}.json`, await linkAttestation(lib, key, 'build', change.command ?? ['make', 'app'], { 'src.c': sha(change.src ?? '1') }, { app: sha('2') })],
    ]);
  /** @param {any} verdict */
  const codes = (verdict) => verdict.failures.map((/** @type {{ code: string }} */ f) => f.code).join();
  return [
    {
      group: 'attestation layouts',
      name: 'a YAML layout (unsigned, allowed): the chain verifies; a changed command and a changed material fail',
      async run() {
        const { verifyAttestationLayout } = attestationsOf(lib);
        const alice = await lib.generateKeyPair('ed25519');
        const yaml = [
          'expires: "2100-01-01T00:00:00Z"',
          'functionaries:',
          `  ${alice.keyid}: ${JSON.stringify(functionary(alice))}`,
          'steps:',
          ...steps(alice).flatMap((s) => [`  - name: ${s.name}`, ...Object.entries(s).filter(([k]) => k !== 'name').map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)]),
          '',
        ].join('\n');
        const layout = utf8.encode(yaml);
        const good = await verifyAttestationLayout({ layout, allowUnsignedLayout: true, attestations: await attestations(alice) });
        equal(codes(good), '', `the good chain (${JSON.stringify(good.failures)})`);
        assert(good.passed && good.unsignedLayout, 'passed, and recorded as unsigned');
        equal(good.lastStep, 'build', 'last step');
        const command = await verifyAttestationLayout({ layout, allowUnsignedLayout: true, attestations: await attestations(alice, { command: ['make', 'evil'] }) });
        equal(codes(command), 'ATTRIBUTE', 'a changed command');
        const material = await verifyAttestationLayout({ layout, allowUnsignedLayout: true, attestations: await attestations(alice, { src: '9' }) });
        assert(!material.passed && codes(material).includes('RULE'), `a changed material: ${codes(material)}`);
        const unsigned = await verifyAttestationLayout({ layout, attestations: await attestations(alice) });
        equal(codes(unsigned), 'LAYOUT', 'an unsigned layout not allowed');
      },
    },
    {
      group: 'attestation layouts',
      name: 'a signed JSON layout: verified with the owner\'s key; another key, another signer or an expired layout fail',
      async run() {
        const { verifyAttestationLayout, readAttestationLayout } = attestationsOf(lib);
        const [owner, alice, mallory] = await Promise.all([lib.generateKeyPair('ed25519'), lib.generateKeyPair('ed25519'), lib.generateKeyPair('ed25519')]);
        const doc = (expires = '2100-01-01T00:00:00Z') => ({ expires, functionaries: { [alice.keyid]: functionary(alice) }, steps: steps(alice) });
        equal(readAttestationLayout(doc()).steps.length, 2, 'readAttestationLayout');
        const sign = async (/** @type {any} */ d) => lib.serializeEnvelope(await lib.signEnvelope(lib.createDsse(d), owner));
        const layout = await sign(doc());
        const good = await verifyAttestationLayout({ layout, layoutKeys: [owner.publicKey], attestations: await attestations(alice) });
        equal(codes(good), '', `the good chain (${JSON.stringify(good.failures)})`);
        assert(good.passed && !good.unsignedLayout && good.layoutSignedBy.includes(owner.keyid), 'signed by the owner');
        equal(codes(await verifyAttestationLayout({ layout, layoutKeys: [mallory.publicKey], attestations: await attestations(alice) })), 'LAYOUT', 'another layout key');
        const forged = await verifyAttestationLayout({ layout, layoutKeys: [owner.publicKey], attestations: await attestations(mallory) });
        assert(!forged.passed && codes(forged).includes('NO_CLAIMS'), `attestations by a key the layout does not name: ${codes(forged)}`);
        const expired = await verifyAttestationLayout({ layout: await sign(doc('2020-01-01T00:00:00Z')), layoutKeys: [owner.publicKey], attestations: await attestations(alice) });
        equal(codes(expired), 'EXPIRED', 'an expired layout');
      },
    },
  ];
}

/**
 * What each failing attestation-verifier case's stated reason (expected.json) means as failures of ours; the same as
 * test/interop/attestation-layouts.test.ts.
 * @type {Record<string, (failures: { code: string, message: string, step?: string, predicateType?: string }[]) => boolean>}
 */
const LAYOUT_REASONS = {
  'attestation-verifier/layout-npm-without-parameters': (f) =>
    f.some((x) => x.code === 'RULE' && x.step === 'build' && x.message.includes('materials rule') && x.message.includes('git+https://github.com/sigstore/sigstore-js@refs/heads/main')),
  'attestation-verifier/layout-npm-wrong-version': (f) =>
    f.some((x) => x.code === 'RULE' && x.step === 'build' && x.message.includes('products rule') && x.message.includes('"pkg:npm/sigstore@1.2.0"')),
  'attestation-verifier/layout-standard-on-npm-data': (f) => f.some((x) => x.code === 'NO_CLAIMS' && x.message === 'no claims found for step clone'),
  'attestation-verifier/layout-npm-on-standard-data': (f) =>
    f.some((x) => x.code === 'THRESHOLD' && x.step === 'build' && x.predicateType === 'https://slsa.dev/provenance/v0.2' && x.message.startsWith('threshold not met for step build')),
  'attestation-verifier/layout-standard-missing-test-step': (f) => f.some((x) => x.code === 'NO_CLAIMS' && x.message === 'no claims found for step test'),
};

/**
 * in-toto/attestation-verifier's layout cases (IN_TOTO_ATTESTATION_VECTORS; not committed here): the harnesses copy
 * their files into the app's vectors/attestation-verifier/ with an index (expected.json's layout cases). Both upstream
 * layouts pass, each failing case fails for its stated reason. Unsigned YAML, as upstream writes it.
 * @param {Lib} lib @param {Read} read @returns {Promise<Case[]>}
 */
async function attestationVerifierCases(lib, read) {
  let index;
  try {
    index = await readJson(read, 'attestation-verifier/index.json');
  } catch {
    return [];
  }
  return index.cases.map((/** @type {{ id: string, layout: string, attestations: string[], parameters?: Record<string, string>, expected: { result: 'pass' | 'fail', reason?: string } }} */ c) => ({
    group: 'attestation-verifier',
    name: `${c.id}: ${c.expected.result === 'pass' ? 'verifies' : `fails (${c.expected.reason})`}`,
    async run() {
      const { verifyAttestationLayout } = attestationsOf(lib);
      const attestations = new Map();
      for (const file of c.attestations) attestations.set(file.slice(file.lastIndexOf('/') + 1), await read(file));
      const verdict = await verifyAttestationLayout({ layout: await read(c.layout), allowUnsignedLayout: true, attestations, ...(c.parameters ? { parameters: c.parameters } : {}) });
      assert(verdict.unsignedLayout, 'recorded as unsigned');
      const failures = JSON.stringify(verdict.failures);
      if (c.expected.result === 'pass') {
        assert(verdict.passed && verdict.failures.length === 0, `expected to pass, failed: ${failures}`);
      } else {
        const reason = LAYOUT_REASONS[c.id];
        assert(reason !== undefined, `no reason is known for the failing case ${c.id}`);
        assert(!verdict.passed && reason(verdict.failures), `expected to fail because ${c.expected.reason}; got ${failures}`);
      }
    },
  }));
}

/**
 * SLSA VSAs made, signed (Ed25519) and checked in the runtime: the round trip, deterministic bytes, and each
 * expectation that does not hold refused.
 * @param {Lib} lib @returns {Case[]}
 */
function vsaCases(lib) {
  const subject = [{ name: 'app-1.0.0.tgz', digest: { sha256: 'ab'.repeat(32) } }];
  const input = (/** @type {Record<string, unknown>} */ extra = {}) => ({
    verifierId: 'https://example.com/verifier',
    verifierVersion: { 'in-toto-wasm': '0.1.0' },
    timeVerified: new Date('2026-01-02T03:04:05Z'),
    resourceUri: 'pkg:npm/app@1.0.0',
    subject,
    policy: { uri: 'layout.yml', bytes: utf8.encode('expires: "2100-01-01T00:00:00Z"\n'), signedBy: [] },
    inputs: [{ name: 'build.1a2b3c4d.json', bytes: utf8.encode('{}') }],
    passed: true,
    verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
    ...extra,
  });
  const expect = { subjectDigests: [{ sha256: 'ab'.repeat(32) }], verifierId: 'https://example.com/verifier', resourceUri: 'pkg:npm/app@1.0.0' };
  return [
    {
      group: 'VSA',
      name: 'createVsa, signVsa (Ed25519), verifyVsa: the round trip, with the same bytes each time',
      async run() {
        const { createVsa, signVsa, verifyVsa } = attestationsOf(lib);
        const key = await lib.generateKeyPair('ed25519');
        const bytes = await signVsa(createVsa(input()), key);
        assert(sameBytes(bytes, await signVsa(createVsa(input()), key)), 'the same inputs, different bytes');
        const { statement, vsa } = await verifyVsa(bytes, [key.publicKey], { ...expect, verifiedLevels: ['SLSA_BUILD_LEVEL_2'] });
        equal(statement.predicateType, lib.VSA_V1, 'predicateType');
        equal(vsa.verificationResult, 'PASSED', 'verificationResult');
        equal(vsa.timeVerified, '2026-01-02T03:04:05Z', 'timeVerified');
        equal(vsa.policy.digest?.sha256, await sha256Hex(utf8.encode('expires: "2100-01-01T00:00:00Z"\n')), 'the policy digest');
        equal(vsa.inputAttestations?.[0]?.digest.sha256, await sha256Hex(utf8.encode('{}')), 'the input digest');
        // Read as any attestation: a DSSE envelope of a Statement.
        equal(lib.readAttestation(bytes).statement.subject[0].name, 'app-1.0.0.tgz', 'the subject');
      },
    },
    {
      group: 'VSA',
      name: 'verifyVsa refuses another key, subject, verifier, resource, a higher level and a failed verification',
      async run() {
        const { createVsa, signVsa, verifyVsa } = attestationsOf(lib);
        const [key, other] = await Promise.all([lib.generateKeyPair('ed25519'), lib.generateKeyPair('ed25519')]);
        const bytes = await signVsa(createVsa(input()), key);
        await refuses(() => verifyVsa(bytes, [other.publicKey], expect), 'SIGNATURE', 'another key');
        await refuses(() => verifyVsa(bytes, [key.publicKey], { ...expect, subjectDigests: [{ sha256: 'cd'.repeat(32) }] }), 'SIGNATURE', 'another subject');
        await refuses(() => verifyVsa(bytes, [key.publicKey], { ...expect, verifierId: 'https://example.com/other' }), 'SIGNATURE', 'another verifier');
        await refuses(() => verifyVsa(bytes, [key.publicKey], { ...expect, resourceUri: 'pkg:npm/app@1.0.1' }), 'SIGNATURE', 'another resource');
        await refuses(() => verifyVsa(bytes, [key.publicKey], { ...expect, verifiedLevels: ['SLSA_SOURCE_LEVEL_1'] }), 'SIGNATURE', 'a level of another track');
        const failed = await signVsa(createVsa(input({ passed: false })), key);
        await refuses(() => verifyVsa(failed, [key.publicKey], expect), 'SIGNATURE', 'a failed verification');
        await refuses(() => createVsa(input({ verifiedLevels: ['SLSA_BUILD_LEVEL_4'] })), 'FORMAT', 'a level SLSA does not have');
        // A changed payload byte: the signature no longer holds.
        const envelope = JSON.parse(text.decode(bytes));
        const payload = text.decode(fromBase64(envelope.payload)).replace('pkg:npm/app@1.0.0', 'pkg:npm/app@6.6.6');
        envelope.payload = lib.toBase64(utf8.encode(payload));
        await refuses(() => verifyVsa(utf8.encode(JSON.stringify(envelope)), [key.publicKey], { ...expect, resourceUri: 'pkg:npm/app@6.6.6' }), 'SIGNATURE', 'a changed payload');
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
