#!/usr/bin/env node
// Generates the conformance vectors ONCE, with Debian's in-toto 1.3.1 (python) and its tools. The output
// is committed under test/conformance/vectors/: browsers and workerd cannot run python, so every runtime
// reads the same files. Run it again only to change the vectors (it needs `apt-get install -y in-toto`):
//
//   node test/conformance/generate.mjs                  (everything: every file changes)
//   node test/conformance/generate.mjs --only openpgp   (only vectors/openpgp/, the rest untouched; needs gpg)
//
// What it writes:
//   canonical.json            JSON documents and securesystemslib's encode_canonical of each (or the refusal)
//   signatures.json           + signatures/*: Metablock and DSSE envelopes signed by securesystemslib (and
//                             pyca/cryptography for P-384), for ed25519, RSA-PSS, ECDSA P-256 and P-384;
//                             valid, changed after signing, and checked with the wrong key
//   scenarios.json            + scenarios/<id>/*: supply chains recorded with in-toto-keygen, in-toto-run and
//                             python's Layout/Metablock, each judged by the reference's in-toto-verify here
//                             (its verdict is recorded beside the one we must give); inspection links are
//                             the ones the reference wrote while verifying, pre-recorded as
//                             inspections/<name>.link, since browsers and Workers cannot run processes.
//   openpgp/openpgp.json      + openpgp/*: OpenPGP keys made by gpg (their exports and the reference's key
//                             dicts), signatures made by gpg (as the reference's signature objects), and
//                             supply chains recorded with in-toto-run/in-toto-sign --gpg, each judged by the
//                             reference's in-toto-verify --gpg (section 4, generateOpenpgp).
// Private keys are never written into the vectors.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'vectors');
const PY = '/usr/bin/python3';

for (const tool of ['/usr/bin/in-toto-keygen', '/usr/bin/in-toto-run', '/usr/bin/in-toto-verify', PY]) {
  if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install -y in-toto`);
}

const python = (program, input, args = []) =>
  execFileSync(PY, ['-c', program, ...args], { input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
const tmp = (prefix) => mkdtempSync(join(tmpdir(), prefix));
const write = (dir, file, content) => {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), content);
};
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt < 0 ? undefined : process.argv[onlyAt + 1];
if (only !== undefined && only !== 'openpgp') throw new Error(`--only ${only}: only "openpgp" can be made alone`);
if (only === 'openpgp') {
  generateOpenpgp();
  process.exit(0);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// ---------------------------------------------------------------------------------------------------
// 1. Canonical JSON: securesystemslib.formats.encode_canonical over python's json.loads of each input.
// ---------------------------------------------------------------------------------------------------
const canonicalInputs = [
  ['empty object', '{}'],
  ['empty array', '[]'],
  ['keys sorted', '{"b": 1, "a": 2, "c": {"z": [], "y": {}}}'],
  ['whitespace dropped', ' { "a" : [ 1 , 2 , 3 ] ,\n\t"b" : "x" } '],
  ['integers', '[0, -0, 1, -1, 9007199254740991, -9007199254740991, 123456789012345678901234567890]'],
  ['literals', '[true, false, null]'],
  ['strings: only " and \\ escaped', '{"s": "quote \\" backslash \\\\ slash \\/ tab \\t nl \\n cr \\r bs \\b ff \\f"}'],
  ['strings: control characters kept raw', '"\\u0000\\u0001\\u001f\\u007f"'],
  ['strings: unicode escapes decoded', '"\\u00e9\\u65e5\\ud83d\\ude00"'],
  ['strings: raw UTF-8 kept', '{"é": "日本語", "😀": "ß"}'],
  ['keys sorted by code point', '{"a": 1, "B": 2, "é": 3, "e": 4, "\\ud83d\\ude00": 5, "\\uffff": 6, "": 7}'],
  ['nested', '{"signed": {"_type": "link", "materials": {"b": {"sha256": "00"}, "a": {"sha256": "11"}}}, "signatures": []}'],
  ['deep nesting (100)', `${'['.repeat(100)}${']'.repeat(100)}`],
  ['a top-level scalar', '42'],
  ['a top-level string', '"x"'],
];
// What the library must refuse (securesystemslib would accept some: json.loads keeps the last duplicate).
const refusals = [
  ['duplicate keys', '{"a": 1, "a": 2}', 'JSON'],
  ['a float', '{"a": 1.5}', 'JSON'],
  ['an exponent', '[1e3]', 'JSON'],
  ['a lone surrogate escape', '"\\ud800"', 'JSON'],
  ['invalid UTF-8', { base64: Buffer.from([0x22, 0xc3, 0x28, 0x22]).toString('base64') }, 'JSON'],
  ['an overlong UTF-8 encoding', { base64: Buffer.from([0x22, 0xc0, 0xaf, 0x22]).toString('base64') }, 'JSON'],
  ['trailing data', '{} {}', 'JSON'],
  ['a trailing comma', '[1, 2,]', 'JSON'],
  ['single quotes', "{'a': 1}", 'JSON'],
  ['an unescaped control character', '"a\u0001b"', 'JSON'],
  ['nesting deeper than 100', `${'['.repeat(101)}${']'.repeat(101)}`, 'LIMIT'],
  ['leading zeros', '[01]', 'JSON'],
  ['empty input', '', 'JSON'],
];
const ENCODE = `
import json, sys, base64
from securesystemslib.formats import encode_canonical
out = []
for text in json.load(sys.stdin):
    out.append(base64.b64encode(encode_canonical(json.loads(text)).encode("utf-8")).decode())
print(json.dumps(out))
`;
const encoded = JSON.parse(python(ENCODE, JSON.stringify(canonicalInputs.map(([, text]) => text))).toString());
writeFileSync(
  join(out, 'canonical.json'),
  json({
    about: 'Canonical JSON vectors: `canonical` is securesystemslib 0.26 encode_canonical (Debian in-toto 1.3.1) of the input, as UTF-8; refusals name the library error code.',
    vectors: [
      ...canonicalInputs.map(([name, input], i) => ({ name, input, canonical: Buffer.from(encoded[i], 'base64').toString('utf8') })),
      ...refusals.map(([name, input, error]) => ({ name, input, error })),
    ],
  }),
);

// ---------------------------------------------------------------------------------------------------
// Keys: in-toto-keygen for ed25519, RSA and ECDSA P-256; pyca/cryptography for P-384 (securesystemslib
// 0.26 does not generate it, but imports and verifies it).
// ---------------------------------------------------------------------------------------------------
const keyDir = tmp('in-toto-conformance-keys-');
function makeKey(name, type) {
  const path = join(keyDir, name);
  execFileSync('/usr/bin/in-toto-keygen', ['-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), path], { stdio: 'pipe' });
  const keyid = python(
    'import sys; from securesystemslib import interface; print(list(interface.import_publickeys_from_file([sys.argv[1]], [sys.argv[2]]).keys())[0])',
    undefined,
    [`${path}.pub`, type],
  ).toString().trim();
  return { name, path, type, keyid, pubFile: `${name}.pub` };
}
const keys = {
  owner: makeKey('owner', 'ed25519'),
  alice: makeKey('alice', 'ed25519'),
  bob: makeKey('bob', 'ed25519'),
  carol: makeKey('carol', 'rsa'),
  dave: makeKey('dave', 'ecdsa'),
  erin: makeKey('erin', 'ed25519'),
};

// ---------------------------------------------------------------------------------------------------
// 2. Signatures: Metablock (hex signatures over canonical `signed`) and DSSE (base64 signatures over
//    PAE(payloadType, payload)), for every key type.
// ---------------------------------------------------------------------------------------------------
const SIGN = `
import json, sys, base64
from securesystemslib import interface, keys as sslkeys
from securesystemslib.formats import encode_canonical
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
spec = json.load(sys.stdin)
link = spec["link"]
canonical = encode_canonical(link).encode("utf-8")
payload = json.dumps(link, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
ptype = "application/vnd.in-toto+json"
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
result = {}
for k in spec["keys"]:
    if k["type"] == "ecdsa384":
        priv = ec.generate_private_key(ec.SECP384R1())
        pem = priv.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        keyid = sslkeys.import_ecdsakey_from_public_pem(pem, "ecdsa-sha2-nistp384")["keyid"]
        sign = lambda data: priv.sign(data, ec.ECDSA(hashes.SHA384()))
        public = pem
    else:
        key = interface.import_privatekey_from_file(k["path"], k["type"])
        keyid = key["keyid"]
        sign = lambda data, key=key: bytes.fromhex(sslkeys.create_signature(key, data)["sig"])
        public = open(k["path"] + ".pub").read()
    mb_sig = sign(canonical)
    ds_sig = sign(pae)
    metablock = json.dumps({"signatures": [{"keyid": keyid, "sig": mb_sig.hex()}], "signed": link}, indent=1, sort_keys=True, ensure_ascii=False)
    dsse = json.dumps({"payload": base64.b64encode(payload).decode(), "payloadType": ptype,
                       "signatures": [{"keyid": keyid, "sig": base64.b64encode(ds_sig).decode()}]}, indent=1)
    result[k["name"]] = {"keyid": keyid, "public": public, "metablock": metablock, "dsse": dsse}
print(json.dumps(result))
`;
const sigKeys = {
  ed25519: makeKey('sig-ed25519', 'ed25519'),
  rsa: makeKey('sig-rsa', 'rsa'),
  'ecdsa-p256': makeKey('sig-ecdsa', 'ecdsa'),
};
const sigLink = {
  _type: 'link',
  name: 'build',
  command: ['make', 'ünïcode'],
  environment: {},
  byproducts: { 'return-value': 0, stderr: '', stdout: 'built\n' },
  materials: { 'src/main.c': { sha256: 'ab'.repeat(32) }, 'é/😀.txt': { sha256: '01'.repeat(32) } },
  products: { 'bin/app': { sha256: 'cd'.repeat(32), sha512: 'ef'.repeat(64) } },
};
const signedOut = JSON.parse(
  python(
    SIGN,
    JSON.stringify({
      link: sigLink,
      keys: [
        { name: 'ed25519', type: 'ed25519', path: sigKeys.ed25519.path },
        { name: 'rsa', type: 'rsa', path: sigKeys.rsa.path },
        { name: 'ecdsa-p256', type: 'ecdsa', path: sigKeys['ecdsa-p256'].path },
        { name: 'ecdsa-p384', type: 'ecdsa384' },
      ],
    }),
  ).toString(),
);
const sigDir = join(out, 'signatures');
const sigVectors = [];
const keyTypeOf = { ed25519: 'ed25519', rsa: 'rsa', 'ecdsa-p256': 'ecdsa', 'ecdsa-p384': 'ecdsa' };
const names = Object.keys(signedOut);
for (const [i, name] of names.entries()) {
  const entry = signedOut[name];
  const keyFile = `${name}.pub`;
  write(sigDir, keyFile, entry.public);
  const wrong = `${names[(i + 1) % names.length]}.pub`;
  for (const kind of ['metablock', 'dsse']) {
    const file = `${name}.${kind}.link`;
    write(sigDir, file, entry[kind]);
    // One byte the signature covers, changed: a digest in `signed`, or a character of the DSSE payload.
    let tampered;
    if (kind === 'metablock') {
      tampered = entry[kind].replace(`"${'ab'.repeat(32)}"`, `"ac${'ab'.repeat(31)}"`);
    } else {
      const doc = JSON.parse(entry[kind]);
      const payload = Buffer.from(doc.payload, 'base64').toString('utf8').replace('ab'.repeat(32), `ac${'ab'.repeat(31)}`);
      doc.payload = Buffer.from(payload).toString('base64');
      tampered = JSON.stringify(doc, null, 1);
    }
    if (tampered === entry[kind]) throw new Error(`could not tamper ${file}`);
    const tamperedFile = `${name}.${kind}.tampered.link`;
    write(sigDir, tamperedFile, tampered);
    const common = { keyType: keyTypeOf[name], envelope: kind };
    sigVectors.push(
      { name: `${name} ${kind}: valid`, file, key: keyFile, ...common, keyid: entry.keyid, valid: true },
      { name: `${name} ${kind}: changed after signing`, file: tamperedFile, key: keyFile, ...common, keyid: entry.keyid, valid: false },
      { name: `${name} ${kind}: another key`, file, key: wrong, keyType: keyTypeOf[names[(i + 1) % names.length]], envelope: kind, valid: false },
    );
  }
}
// The reference checks its own Metablock signatures (DSSE is not in in-toto 1.3.1, so those are checked
// against securesystemslib's verify_signature over PAE instead).
const CHECK = `
import json, sys, base64
from securesystemslib import keys as sslkeys, interface
from securesystemslib.formats import encode_canonical
spec = json.load(sys.stdin)
out = []
for v in spec:
    text = open(v["file"]).read()
    pub = open(v["key"]).read()
    if v["key"].endswith("ecdsa-p384.pub"):
        key = sslkeys.import_ecdsakey_from_public_pem(pub, "ecdsa-sha2-nistp384")
    elif v["keyType"] == "rsa":
        key = sslkeys.import_rsakey_from_public_pem(pub)
    else:
        key = interface.import_publickeys_from_file([v["key"]], [v["keyType"]]).popitem()[1]
    doc = json.loads(text)
    if v["envelope"] == "metablock":
        data = encode_canonical(doc["signed"]).encode()
        sig = {"keyid": key["keyid"], "sig": doc["signatures"][0]["sig"]}
    else:
        payload = base64.b64decode(doc["payload"])
        ptype = doc["payloadType"].encode()
        data = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
        sig = {"keyid": key["keyid"], "sig": base64.b64decode(doc["signatures"][0]["sig"]).hex()}
    try:
        ok = sslkeys.verify_signature(key, sig, data)
    except Exception:
        ok = False
    out.append(bool(ok))
print(json.dumps(out))
`;
const checked = JSON.parse(
  python(CHECK, JSON.stringify(sigVectors.map((v) => ({ ...v, file: join(sigDir, v.file), key: join(sigDir, v.key) })))).toString(),
);
sigVectors.forEach((v, i) => {
  if (checked[i] !== v.valid) throw new Error(`securesystemslib disagrees on signature vector ${v.name}: ${checked[i]}`);
});
writeFileSync(
  join(out, 'signatures.json'),
  json({
    about: 'Signature vectors: a link signed by securesystemslib 0.26 (pyca/cryptography for P-384) as a Metablock and as a DSSE envelope, per key type; each verdict checked with securesystemslib.',
    vectors: sigVectors,
  }),
);

// ---------------------------------------------------------------------------------------------------
// 3. Scenarios: supply chains recorded with the reference's tools, judged by its in-toto-verify.
// ---------------------------------------------------------------------------------------------------
const WRITE_LAYOUT = `
import json, sys
from securesystemslib import interface
from in_toto.models.layout import Layout
from in_toto.models.metadata import Metablock
spec = json.load(sys.stdin)
keys = interface.import_publickeys_from_file([k["path"] + ".pub" for k in spec["keys"]], [k["type"] for k in spec["keys"]])
layout = Layout.read({"_type": "layout", "steps": spec["steps"], "inspect": spec["inspect"], "keys": keys,
                      "expires": spec["expires"], "readme": spec.get("readme", "")})
metablock = Metablock(signed=layout)
for signer in spec["signers"]:
    metablock.sign(interface.import_privatekey_from_file(signer["path"], signer["type"]))
metablock.dump(spec["out"])
`;
const FAR = '2099-01-01T00:00:00Z';

function writeLayout(file, spec) {
  const { steps, inspect, keys: used } = layoutDocParts(spec);
  python(WRITE_LAYOUT, JSON.stringify({ steps, inspect, keys: used, signers: spec.signers, expires: spec.expires ?? FAR, readme: spec.readme ?? '', out: file }));
}

function run(cwd, name, key, { materials = [], products = [], command = [] } = {}) {
  const args = ['-n', name, '-k', key.path, '-t', key.type];
  if (materials.length) args.push('-m', ...materials);
  if (products.length) args.push('-p', ...products);
  args.push(...(command.length ? ['--', ...command] : ['-x']));
  const result = spawnSync('/usr/bin/in-toto-run', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`in-toto-run ${args.join(' ')}: ${result.stderr}`);
}

const linkOf = (dir, step) => {
  const file = readdirSync(dir).find((f) => f.startsWith(`${step}.`) && f.endsWith('.link'));
  if (!file) throw new Error(`no link for ${step} in ${dir}`);
  return join(dir, file);
};
const tamperFile = (file, from, to) => {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
  writeFileSync(file, text.replace(from, to));
};
const moveLinks = (from, to, test = (f) => f.endsWith('.link')) => {
  for (const f of readdirSync(from)) if (test(f)) (cpSync(join(from, f), join(to, f)), unlinkSync(join(from, f)));
};

// The client directory holds the owner's key too: the inspection allows it.
const DEMO_INSPECTION = demoInspection(['owner.pub', 'root.layout']);
const demoLayout = (extra = {}) => ({
  readme: 'in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks',
  ...demoLayoutSpec(keys, extra, ['owner.pub', 'root.layout']),
});

/** The demo chain recorded in `dir`: links and the product foo.tar.gz; `tamper` changes the story. */
function recordDemo(dir, tamper = {}) {
  const work = join(dir, 'work');
  write(work, 'foo.py', 'print("hello world")\n');
  run(work, 'write-code', keys.bob, { products: ['foo.py'] });
  if (tamper.code) write(work, 'foo.py', tamper.code);
  run(work, 'package', tamper.packager ?? keys.carol, { materials: ['foo.py'], products: ['foo.tar.gz'], command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'] });
  moveLinks(work, dir);
  if (tamper.product) {
    write(work, 'foo.py', 'print("pwned")\n');
    execFileSync('tar', ['zcf', 'foo.tar.gz', 'foo.py'], { cwd: work });
  }
  cpSync(join(work, 'foo.tar.gz'), join(dir, 'foo.tar.gz'));
  rmSync(work, { recursive: true });
}

function demo(layoutExtra, tamper, after) {
  return (dir) => {
    writeLayout(join(dir, 'root.layout'), demoLayout(layoutExtra));
    recordDemo(dir, tamper);
    return after?.(dir) ?? {};
  };
}

function ruleScenario(rules, before, after) {
  return (dir) => {
    const work = join(dir, 'work');
    for (const [file, content] of Object.entries(before)) write(work, file, content);
    writeLayout(join(dir, 'root.layout'), {
      steps: [{ name: 'step', pubkeys: [keys.alice], expected_materials: rules.materials ?? [], expected_products: rules.products ?? [] }],
      signers: [keys.owner],
    });
    const script = Object.entries(after)
      .map(([f, c]) => (c === null ? `rm -f '${f}'` : `mkdir -p "$(dirname '${f}')" && printf '%s' '${c}' > '${f}'`))
      .join(' && ');
    run(work, 'step', keys.alice, { materials: ['.'], products: ['.'], command: ['sh', '-c', script || 'true'] });
    moveLinks(work, dir);
    rmSync(work, { recursive: true });
    return {};
  };
}

function matchPrefixes(changed) {
  return (dir) => {
    writeLayout(join(dir, 'root.layout'), {
      steps: [
        { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'dist/*'], ['DISALLOW', '*']] },
        { name: 'ship', pubkeys: [keys.bob], expected_materials: [['MATCH', '*', 'IN', 'pkg', 'WITH', 'PRODUCTS', 'IN', 'dist', 'FROM', 'build'], ['DISALLOW', '*']] },
      ],
      signers: [keys.owner],
    });
    const work = join(dir, 'work');
    write(work, 'dist/a/b.js', 'b');
    write(work, 'dist/c.js', 'c');
    run(work, 'build', keys.alice, { products: ['dist'] });
    write(work, 'pkg/a/b.js', 'b');
    write(work, 'pkg/c.js', changed ? 'changed' : 'c');
    run(work, 'ship', keys.bob, { materials: ['pkg'] });
    moveLinks(work, dir);
    rmSync(work, { recursive: true });
    return {};
  };
}

function threshold(links, agree = true) {
  return (dir) => {
    const work = join(dir, 'work');
    write(work, 'a.txt', 'a');
    writeLayout(join(dir, 'root.layout'), {
      steps: [{ name: 'review', pubkeys: [keys.alice, keys.bob], threshold: 2, expected_products: [['ALLOW', 'a.txt'], ['DISALLOW', '*']] }],
      signers: [keys.owner],
    });
    run(work, 'review', keys.alice, { products: ['a.txt'] });
    if (!agree) write(work, 'a.txt', 'b');
    if (links > 1) run(work, 'review', keys.bob, { products: ['a.txt'] });
    moveLinks(work, dir);
    rmSync(work, { recursive: true });
    return {};
  };
}

/** Step 'build' of the root layout is delegated to alice's sublayout: compile (bob), check (erin). */
function sublayout(tamper) {
  return (dir) => {
    const work = join(dir, 'work');
    const sub = join(dir, `build.${keys.alice.keyid.slice(0, 8)}`);
    const specs = sublayoutSpecs(keys);
    writeLayout(join(dir, `build.${keys.alice.keyid.slice(0, 8)}.link`), specs.sub);
    writeLayout(join(dir, 'root.layout'), specs.root);
    write(work, 'app', 'binary');
    run(work, 'compile', keys.bob, { products: ['app'] });
    run(work, 'check', keys.erin, { materials: ['app'], products: ['app'] });
    mkdirSync(sub, { recursive: true });
    moveLinks(work, sub);
    if (tamper) tamperFile(linkOf(sub, 'compile'), '"sha256": "', '"sha256": "f');
    run(work, 'release', keys.carol, { materials: ['app'] });
    moveLinks(work, dir);
    rmSync(work, { recursive: true });
    return {};
  };
}

/** The demo with its step links re-signed as DSSE envelopes by the same functionaries (not in in-toto 1.3.1). */
const TO_DSSE = `
import json, sys, base64
from securesystemslib import interface, keys as sslkeys
spec = json.load(sys.stdin)
ptype = "application/vnd.in-toto+json"
for item in spec:
    signed = json.load(open(item["file"]))["signed"]
    payload = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
    key = interface.import_privatekey_from_file(item["key"], item["type"])
    sig = sslkeys.create_signature(key, pae)
    env = {"payload": base64.b64encode(payload).decode(), "payloadType": ptype,
           "signatures": [{"keyid": sig["keyid"], "sig": base64.b64encode(bytes.fromhex(sig["sig"])).decode()}]}
    open(item["file"], "w").write(json.dumps(env, indent=2))
`;

const RUN_INSPECTIONS = `
import json, os, sys
import in_toto.settings, in_toto.runlib
from in_toto.models.metadata import Metablock
layout = Metablock.load(sys.argv[1]).signed
os.chdir(os.path.dirname(sys.argv[1]))
in_toto.settings.ARTIFACT_BASE_PATH = None
names = []
for inspection in layout.inspect:
    link = in_toto.runlib.in_toto_run(inspection.name, ["."], ["."], inspection.run)
    link.dump(inspection.name + ".link")
    names.append(inspection.name)
print(json.dumps(names))
`;

const scenarios = [
  { id: 'demo', name: 'the demo chain (inspection pre-recorded)', expect: 'pass', build: demo(), inspections: 'links', product: 'foo.tar.gz' },
  { id: 'demo-skip-inspections', name: 'the demo chain, inspections explicitly skipped', expect: 'pass', warnings: ['INSPECTIONS_SKIPPED'], build: demo(), inspections: 'skip', product: 'foo.tar.gz' },
  { id: 'demo-inspections-unchecked', name: 'the demo chain, inspections neither run, given nor skipped', expect: 'fail', codes: ['INSPECTION'], build: demo(), inspections: 'none', referenceExpect: 'pass', note: 'the reference runs inspections; a runtime that cannot must not pass silently' },
  { id: 'demo-tampered-code', name: 'foo.py changed between write-code and package', expect: 'fail', codes: ['RULE_DISALLOW'], build: demo({}, { code: 'print("evil")\n' }), inspections: 'links' },
  { id: 'demo-tampered-product', name: 'the final product replaced after package', expect: 'fail', codes: ['RULE_DISALLOW'], build: demo({}, { product: true }), inspections: 'links', product: 'foo.tar.gz' },
  { id: 'demo-missing-link', name: 'a missing link', expect: 'fail', codes: ['LINK_MISSING'], inspections: 'links', build: demo({}, {}, (dir) => unlinkSync(linkOf(dir, 'package'))) },
  { id: 'demo-unauthorized-key', name: 'package recorded by a key the layout does not authorize', expect: 'fail', codes: ['LINK_MISSING'], inspections: 'links', build: demo({}, { packager: keys.dave }) },
  { id: 'demo-link-tampered', name: 'a link changed after signing', expect: 'fail', codes: ['THRESHOLD'], inspections: 'links', build: demo({}, {}, (dir) => tamperFile(linkOf(dir, 'write-code'), '"sha256": "', '"sha256": "0')) },
  { id: 'demo-layout-tampered', name: 'the layout changed after signing', expect: 'fail', codes: ['SIGNATURE'], inspections: 'links', build: demo({}, {}, (dir) => tamperFile(join(dir, 'root.layout'), `"expires": "${FAR}"`, '"expires": "2099-01-02T00:00:00Z"')) },
  { id: 'demo-wrong-layout-key', name: 'verified with a key that did not sign the layout', expect: 'fail', codes: ['SIGNATURE'], inspections: 'links', build: demo({}, {}, () => ({ layoutKeys: [keys.erin] })) },
  { id: 'demo-expired', name: 'an expired layout', expect: 'fail', codes: ['LAYOUT_EXPIRED'], inspections: 'links', build: demo({ expires: '2020-01-01T00:00:00Z' }) },
  { id: 'demo-two-owners', name: 'a layout signed by two owners, both required', expect: 'pass', inspections: 'links', build: demo({ signers: [keys.owner, keys.carol] }, {}, () => ({ layoutKeys: [keys.owner, keys.carol] })) },
  {
    id: 'demo-link-dir', name: 'links in a separate directory', expect: 'pass', inspections: 'links',
    build: demo({}, {}, (dir) => (mkdirSync(join(dir, 'links')), moveLinks(dir, join(dir, 'links')), { linkDir: 'links' })),
  },
  { id: 'demo-inspection-fails', name: 'the inspection command fails', expect: 'fail', codes: ['INSPECTION'], inspections: 'links', build: demo({ inspect: [{ ...DEMO_INSPECTION, run: ['tar', 'xzf', 'missing.tar.gz'] }] }) },
  {
    id: 'demo-dsse-links', name: 'the demo with DSSE step links', expect: 'pass', inspections: 'links', reference: 'n/a',
    note: 'in-toto 1.3.1 reads no DSSE: the links are the reference-recorded ones, re-signed over PAE by securesystemslib',
    build: demo({}, {}, (dir) => {
      python(TO_DSSE, JSON.stringify([
        { file: linkOf(dir, 'write-code'), key: keys.bob.path, type: 'ed25519' },
        { file: linkOf(dir, 'package'), key: keys.carol.path, type: 'rsa' },
      ]));
      return { referenceSkip: true };
    }),
  },
  { id: 'threshold-2', name: 'threshold 2 met by two functionaries', expect: 'pass', build: threshold(2) },
  { id: 'threshold-2-one-link', name: 'threshold 2 with one link', expect: 'fail', codes: ['LINK_MISSING'], build: threshold(1) },
  { id: 'threshold-2-disagree', name: 'threshold 2 with links that disagree', expect: 'fail', codes: ['LINKS_DISAGREE'], build: threshold(2, false) },
  { id: 'rule-create', name: 'CREATE of a new file', expect: 'pass', build: ruleScenario({ products: [['CREATE', 'new.txt'], ['ALLOW', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, { 'new.txt': 'n' }) },
  { id: 'rule-create-existing', name: 'CREATE of a file that existed', expect: 'fail', codes: ['RULE_DISALLOW'], build: ruleScenario({ products: [['CREATE', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, {}) },
  { id: 'rule-delete', name: 'DELETE of a removed file', expect: 'pass', build: ruleScenario({ materials: [['DELETE', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, { 'old.txt': null }) },
  { id: 'rule-modify-unchanged', name: 'MODIFY of an unchanged file', expect: 'fail', codes: ['RULE_DISALLOW'], build: ruleScenario({ products: [['MODIFY', 'f.txt'], ['DISALLOW', '*']] }, { 'f.txt': 'a' }, {}) },
  { id: 'rule-require-absent', name: 'REQUIRE of an absent file', expect: 'fail', codes: ['RULE_REQUIRE'], build: ruleScenario({ products: [['REQUIRE', 'g.txt']] }, { 'f.txt': 'a' }, {}) },
  { id: 'rule-globs', name: '? and [!x] globs leave a file to DISALLOW', expect: 'fail', codes: ['RULE_DISALLOW'], build: ruleScenario({ products: [['ALLOW', 'f?.[!b]*'], ['DISALLOW', '*']] }, { 'f1.a': 'a', 'f2.b': 'b' }, {}) },
  { id: 'rule-star-across-dirs', name: '* matches across directories', expect: 'pass', build: ruleScenario({ products: [['ALLOW', 'src/*.c'], ['DISALLOW', '*']] }, { 'src/a/b/c.c': 'c', 'src/d.c': 'd' }, {}) },
  { id: 'rule-unicode', name: 'unicode file names', expect: 'pass', build: ruleScenario({ products: [['CREATE', 'naïve-日本.txt'], ['ALLOW', 'ß/*'], ['DISALLOW', '*']] }, { 'ß/ü.txt': 'u' }, { 'naïve-日本.txt': 'n' }) },
  { id: 'match-prefixes', name: 'MATCH with IN prefixes across nested directories', expect: 'pass', build: matchPrefixes(false) },
  { id: 'match-prefixes-changed', name: 'MATCH with IN prefixes and one changed file', expect: 'fail', codes: ['RULE_DISALLOW'], build: matchPrefixes(true) },
  {
    id: 'rsa-ecdsa', name: 'RSA- and ECDSA-signed layout and links', expect: 'pass',
    build(dir) {
      const work = join(dir, 'work');
      writeLayout(join(dir, 'root.layout'), {
        steps: [
          { name: 'build', pubkeys: [keys.carol], expected_products: [['CREATE', 'a.txt'], ['DISALLOW', '*']] },
          { name: 'test', pubkeys: [keys.dave], expected_materials: [['MATCH', 'a.txt', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
        ],
        signers: [keys.carol, keys.dave],
      });
      write(work, 'a.txt', 'a');
      run(work, 'build', keys.carol, { products: ['a.txt'] });
      run(work, 'test', keys.dave, { materials: ['a.txt'] });
      moveLinks(work, dir);
      rmSync(work, { recursive: true });
      return { layoutKeys: [keys.carol, keys.dave] };
    },
  },
  { id: 'sublayout', name: 'a sublayout verified with its own links', expect: 'pass', build: sublayout(false) },
  { id: 'sublayout-tampered', name: 'a sublayout whose inner link was changed after signing', expect: 'fail', codes: ['THRESHOLD'], build: sublayout(true) },
];

/** Every file under `dir`, relative, sorted. */
function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name))]))
    .sort();
}

const scenarioOut = join(out, 'scenarios');
const manifest = [];
for (const scenario of scenarios) {
  const dir = tmp(`in-toto-conformance-${scenario.id}-`);
  const built = scenario.build(dir) ?? {};
  const layoutKeys = built.layoutKeys ?? [keys.owner];
  const linkDir = built.linkDir ?? '.';

  // The reference's verdict, in a copy of the directory (its inspections run there and write <name>.link).
  let reference = 'n/a';
  let referenceSays = '';
  const inspectionLinks = {};
  if (!built.referenceSkip) {
    const copy = tmp('in-toto-conformance-ref-');
    cpSync(dir, copy, { recursive: true });
    // The keys stay outside: the demo's inspection records the whole working directory.
    const args = ['--layout', 'root.layout', '--layout-keys', ...layoutKeys.map((k) => `${k.path}.pub`), '--key-types', ...layoutKeys.map((k) => k.type)];
    if (linkDir !== '.') args.push('--link-dir', linkDir);
    const result = spawnSync('/usr/bin/in-toto-verify', args, { cwd: copy, encoding: 'utf8' });
    reference = result.status === 0 ? 'pass' : 'fail';
    const said = `${result.stdout}${result.stderr}`.trim().split('\n');
    referenceSays = said.filter((line) => /Error/.test(line)).pop() ?? said.pop() ?? '';
  }
  if (scenario.reference !== 'n/a' && reference !== (scenario.referenceExpect ?? scenario.expect)) {
    throw new Error(`${scenario.id}: the reference says ${reference} (${referenceSays}), the scenario expects ${scenario.expect}`);
  }
  if (scenario.inspections === 'links') {
    // Pre-recorded as the reference's verifier records them (verifylib.run_all_inspections): in_toto_run
    // with "." as materials and products, no key, in the verifier's working directory. The reference
    // stops at the first failure, often before its inspections, so they are recorded here, not taken
    // from its run.
    const copy = tmp('in-toto-conformance-inspect-');
    cpSync(dir, copy, { recursive: true });
    const layoutFile = join(copy, 'root.layout');
    const written = JSON.parse(python(RUN_INSPECTIONS, undefined, [layoutFile]).toString());
    for (const name of written) inspectionLinks[name] = readFileSync(join(copy, `${name}.link`));
    rmSync(copy, { recursive: true });
  }

  // The vector: the layout, links, the layout keys' public files, pre-recorded inspections, the product.
  const target = join(scenarioOut, scenario.id);
  mkdirSync(target, { recursive: true });
  for (const file of listFiles(dir)) {
    const isMetadata = file.endsWith('.link') || file.endsWith('.layout') || /\.[0-9a-f]{8}\//.test(file);
    const isProduct = scenario.product && file === scenario.product;
    if (isMetadata || isProduct) write(target, file, readFileSync(join(dir, file)));
  }
  for (const k of layoutKeys) write(target, `keys/${k.pubFile}`, readFileSync(`${k.path}.pub`));
  if (scenario.inspections === 'links') {
    if (Object.keys(inspectionLinks).length === 0) throw new Error(`${scenario.id}: the reference wrote no inspection link`);
    for (const [name, bytes] of Object.entries(inspectionLinks)) write(target, `inspections/${name}.link`, bytes);
  }
  manifest.push({
    id: scenario.id,
    name: scenario.name,
    expect: scenario.expect,
    ...(scenario.codes ? { codes: scenario.codes } : {}),
    ...(scenario.warnings ? { warnings: scenario.warnings } : {}),
    reference: reference === 'n/a' ? 'n/a' : { verdict: reference, ...(referenceSays && reference === 'fail' ? { said: referenceSays } : {}) },
    ...(scenario.note ? { note: scenario.note } : {}),
    layout: 'root.layout',
    layoutKeys: layoutKeys.map((k) => ({ file: `keys/${k.pubFile}`, keyType: k.type })),
    linkDir,
    inspections: scenario.inspections ?? 'none',
    ...(scenario.product ? { product: scenario.product } : {}),
    files: listFiles(target),
  });
  rmSync(dir, { recursive: true });
  console.log(`${scenario.id}: ours ${scenario.expect}, reference ${reference}${referenceSays && reference === 'fail' ? ` (${referenceSays})` : ''}`);
}
writeFileSync(
  join(out, 'scenarios.json'),
  json({
    about: 'Supply chains recorded with Debian in-toto 1.3.1 (in-toto-keygen, in-toto-run, in_toto.models); `reference` is its in-toto-verify verdict on the same files (inspections run by it), `expect` and `codes` what this library must report.',
    scenarios: manifest,
  }),
);
rmSync(keyDir, { recursive: true });
generateOpenpgp();
const count = (dir) => listFiles(dir).length;
console.log(`wrote ${out}: ${count(out)} files, ${manifest.length} scenarios, ${sigVectors.length} signature vectors`);

// ---------------------------------------------------------------------------------------------------
// 4. OpenPGP: keys made by gpg (GnuPG 2.2) in a throwaway home directory, signatures made by gpg, supply
//    chains recorded and signed with in-toto-run / in-toto-sign --gpg, each judged by in-toto-verify --gpg.
//    Writes vectors/openpgp/ only (`--only openpgp` makes just this part and leaves every other vector be).
//
//    What the reference cannot do, and how the vectors get around it (securesystemslib 0.26):
//    - its export_pubkey drops every Ed25519 subkey: it hashes a subkey's binding signature over 0x99 and the
//      packet's own length bytes, which for a short (one-byte length) packet like an Ed25519 subkey's is not
//      the two-byte length RFC 4880 §5.2.4 wants, so the binding never verifies. So the owner key, whose
//      subkey signs the layout, is RSA (2048, with a signing subkey), and the Ed25519 functionary's dict in the
//      layouts is the reference's own dict plus the subkeys the reference's own parser reads from the export
//      (parse_pubkey_payload), which its verifier then uses as it should;
//    - its key ids are hex only, so in-toto-run cannot take gpg's `KEYID!`: a link by a chosen subkey is
//      recorded with a copy of the home directory where the other subkey's secret part is deleted.
// ---------------------------------------------------------------------------------------------------
function generateOpenpgp() {
  const GPG = '/usr/bin/gpg';
  const GPGCONF = '/usr/bin/gpgconf';
  for (const tool of [GPG, GPGCONF, '/usr/bin/in-toto-run', '/usr/bin/in-toto-sign', '/usr/bin/in-toto-verify', PY]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install -y gnupg in-toto`);
  }
  const pgpOut = join(out, 'openpgp');
  rmSync(pgpOut, { recursive: true, force: true });
  mkdirSync(pgpOut, { recursive: true });
  // Far enough to never matter, and the verification time the suite uses: after the keys were made.
  const EXPIRES = '2099-01-01T00:00:00Z';
  const NOW = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1)).toISOString().replace(/\.\d{3}Z$/, 'Z');

  // Home directories: short paths under /tmp (gpg-agent's socket path must stay short), mode 700.
  const homes = [];
  const newHome = () => {
    const dir = mkdtempSync('/tmp/itcv-');
    chmodSync(dir, 0o700);
    homes.push(dir);
    return dir;
  };
  const home = newHome();
  const gpg = (args, h = home, input = undefined) =>
    execFileSync(GPG, ['--homedir', h, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, maxBuffer: 1 << 26, stdio: ['pipe', 'pipe', 'pipe'] });
  const tool = (name, args, cwd) => {
    const result = spawnSync(`/usr/bin/${name}`, args, { cwd, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${name} ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return result;
  };

  try {
    // Keys, no encryption subkeys: `sign` as the usage makes none.
    const fingerprints = (id, h = home) =>
      gpg(['--with-colons', '--with-subkey-fingerprints', '--list-keys', id], h).toString().split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9].toLowerCase());
    const makeKey = (name, algo, subkeys, about) => {
      const email = `${name}@in-toto.test`;
      gpg(['--quick-gen-key', `in-toto conformance ${name} <${email}>`, algo, 'sign', 'never']);
      const [fpr] = fingerprints(`<${email}>`);
      for (let i = 0; i < subkeys; i++) gpg(['--quick-add-key', fpr, algo, 'sign', 'never']);
      const all = fingerprints(fpr);
      if (all.length !== subkeys + 1 || all[0] !== fpr) throw new Error(`${name}: unexpected key listing ${all.join(', ')}`);
      return { name, algo, about, fpr, subkeys: all.slice(1) };
    };
    const k = {
      owner: makeKey('owner', 'rsa2048', 1, 'the project owner: RSA 2048 with an RSA signing subkey (gpg signs the layout with the subkey)'),
      rsa: makeKey('rsa', 'rsa2048', 0, 'a functionary: RSA 2048'),
      dsa: makeKey('dsa', 'dsa2048', 0, 'a functionary: DSA 2048 (q of 224 bits; signatures over SHA-256, truncated)'),
      ed: makeKey('ed', 'ed25519', 2, 'a functionary: Ed25519 with two Ed25519 signing subkeys (gpg signs with the newest)'),
    };

    // The reference's key dicts (export_pubkey), and the subkeys its parser reads from the same export.
    const DICTS = `
import json, sys, subprocess
from securesystemslib.gpg.functions import export_pubkey
from securesystemslib.gpg import common
spec = json.load(sys.stdin)
out = {}
for fpr in spec["keys"]:
    data = subprocess.run(["${GPG}", "--homedir", spec["home"], "--export", fpr], check=True, capture_output=True).stdout
    bundle = common.parse_pubkey_bundle(data)
    parsed = {}
    for packet, info in bundle[common.PACKET_TYPE_SUB_KEY].items():
        sub = common.parse_pubkey_payload(bytearray(packet[-info["body_len"]:]))
        parsed[sub["keyid"]] = sub
    out[fpr] = {"reference": export_pubkey(fpr, homedir=spec["home"]), "parsed": parsed}
print(json.dumps(out))
`;
    const dicts = JSON.parse(python(DICTS, JSON.stringify({ home, keys: Object.values(k).map((key) => key.fpr) })).toString());
    const keyVectors = [];
    for (const key of Object.values(k)) {
      const { reference, parsed } = dicts[key.fpr];
      if (reference.keyid !== key.fpr) throw new Error(`${key.name}: the reference exported ${reference.keyid}`);
      const listed = Object.keys(reference.subkeys ?? {});
      const dropped = key.subkeys.filter((id) => !listed.includes(id));
      if (listed.some((id) => !key.subkeys.includes(id))) throw new Error(`${key.name}: the reference lists a subkey gpg does not: ${listed}`);
      const dict = dropped.length === 0 ? reference : { ...reference, subkeys: { ...(reference.subkeys ?? {}), ...Object.fromEntries(dropped.map((id) => [id, parsed[id]])) } };
      if (dropped.some((id) => parsed[id] === undefined)) throw new Error(`${key.name}: the reference's parser did not read subkeys ${dropped}`);
      if (dropped.length > 0 && key.algo !== 'ed25519') throw new Error(`${key.name}: the reference dropped subkeys ${dropped} of a ${key.algo} key`);
      key.dict = dict;
      write(pgpOut, `keys/${key.name}.asc`, gpg(['--armor', '--export', key.fpr]));
      write(pgpOut, `keys/${key.name}.gpg`, gpg(['--export', key.fpr]));
      keyVectors.push({
        name: key.name,
        about: key.about,
        fingerprint: key.fpr,
        signingSubkeys: key.subkeys,
        armored: `keys/${key.name}.asc`,
        binary: `keys/${key.name}.gpg`,
        dict,
        ...(dropped.length > 0
          ? { referenceDict: reference, note: `the reference's export_pubkey drops the Ed25519 subkeys (${dropped.join(', ')}): its binding-signature check hashes a one-byte packet length; \`dict\` adds them as its parse_pubkey_payload reads them` }
          : {}),
      });
    }

    // Signatures: gpg --detach-sign over the same data by each algorithm, primary keys and subkeys (`ID!`
    // makes gpg use exactly that key); the reference's signature object from parse_signature_packet; each
    // verdict, and the one over the data with a byte changed, confirmed by the reference's verify_signature.
    const data = Buffer.from('in-toto conformance: the bytes an OpenPGP signature covers {"_type":"link"}\n');
    const changed = Buffer.from(data);
    changed[10] ^= 0x01;
    const signers = [
      { name: 'RSA', key: k.rsa, id: `${k.rsa.fpr}!` },
      { name: 'RSA subkey', key: k.owner, id: k.owner.fpr, signer: k.owner.subkeys[0] },
      { name: 'DSA', key: k.dsa, id: `${k.dsa.fpr}!` },
      { name: 'EdDSA', key: k.ed, id: `${k.ed.fpr}!` },
      { name: 'EdDSA subkey', key: k.ed, id: `${k.ed.subkeys[0]}!`, signer: k.ed.subkeys[0] },
    ];
    const PARSE_SIGS = `
import json, sys
import { demoInspection, demoLayoutSpec, layoutDocParts, sublayoutSpecs } from '../helpers/chains.mjs';
from securesystemslib.gpg.common import parse_signature_packet
from securesystemslib.gpg.functions import verify_signature
spec = json.load(sys.stdin)
out = []
for v in spec["sigs"]:
    sig = parse_signature_packet(bytes.fromhex(v["packet"]))
    sig.pop("short_keyid", None)
    verdicts = []
    for data in (spec["data"], spec["changed"]):
        try:
            verdicts.append(bool(verify_signature(sig, v["dict"], bytes.fromhex(data))))
        except Exception:
            verdicts.append(False)
    out.append({"signature": sig, "verdicts": verdicts})
print(json.dumps(out))
`;
    const packets = signers.map((s) => gpg(['--detach-sign', '--digest-algo', 'SHA256', '--local-user', s.id], home, data));
    const parsedSigs = JSON.parse(
      python(PARSE_SIGS, JSON.stringify({ data: data.toString('hex'), changed: changed.toString('hex'), sigs: packets.map((p, i) => ({ packet: p.toString('hex'), dict: signers[i].key.dict })) })).toString(),
    );
    const sigVectors = [];
    signers.forEach((s, i) => {
      const { signature, verdicts } = parsedSigs[i];
      const signer = s.signer ?? s.key.fpr;
      if (signature.keyid !== signer) throw new Error(`${s.name}: signed by ${signature.keyid}, not ${signer}`);
      if (verdicts[0] !== true || verdicts[1] !== false) throw new Error(`${s.name}: the reference's verdicts are ${verdicts}`);
      const common = { key: s.key.name, signer, packet: packets[i].toString('base64'), signature };
      sigVectors.push(
        { name: `${s.name}: valid`, ...common, data: data.toString('base64'), valid: true },
        { name: `${s.name}: a data byte changed`, ...common, data: changed.toString('base64'), valid: false },
      );
    });

    // Supply chains. Links are named after the key that signed (a subkey's fingerprint when a subkey did).
    const record = (cwd, step, keyid, { materials = [], products = [], command } = {}, h = home) => {
      const before = new Set(readdirSync(cwd));
      const args = ['-n', step, '-g', keyid, '--gpg-home', h];
      if (materials.length) args.push('-m', ...materials);
      if (products.length) args.push('-p', ...products);
      args.push(...(command ? ['--', ...command] : ['-x']));
      tool('in-toto-run', args, cwd);
      const made = readdirSync(cwd).filter((f) => !before.has(f) && f.endsWith('.link'));
      if (made.length !== 1) throw new Error(`in-toto-run ${step}: made ${made.join(', ') || 'no link'}`);
      return made[0];
    };
    /** A copy of the home directory in which only `keep` of `key`'s subkeys can sign. */
    const homeSigningWith = (key, keep) => {
      const copy = newHome();
      cpSync(home, copy, { recursive: true, filter: (src) => !/\/S\.[^/]*$/.test(src) });
      for (const other of key.subkeys.filter((id) => id !== keep)) gpg(['--yes', '--delete-secret-keys', `${other.toUpperCase()}!`], copy);
      return copy;
    };
    const step = (name, keys, materials, products, threshold = 1) => ({
      _type: 'step', name, pubkeys: keys.map((key) => key.fpr), threshold, expected_command: [], expected_materials: materials, expected_products: products,
    });
    const layoutOf = (steps) => {
      const used = new Map(steps.flatMap((s) => s.pubkeys).map((id) => [id, Object.values(k).find((key) => key.fpr === id).dict]));
      return { signatures: [], signed: { _type: 'layout', expires: EXPIRES, readme: 'in-toto conformance: OpenPGP', keys: Object.fromEntries(used), steps, inspect: [] } };
    };
    const signLayout = (dir, layout, signer) => {
      write(dir, 'layout.unsigned', json(layout));
      tool('in-toto-sign', ['-f', 'layout.unsigned', '-g', signer.fpr, '--gpg-home', home, '-o', 'root.layout'], dir);
      unlinkSync(join(dir, 'layout.unsigned'));
    };
    const TAR = ['tar', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-czf', 'foo.tar.gz', 'foo.py'];
    const CHAIN = [
      step('write-code', [k.rsa], [['DISALLOW', '*']], [['CREATE', 'foo.py'], ['DISALLOW', '*']]),
      step('package', [k.dsa], [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['DISALLOW', '*']], [['CREATE', 'foo.tar.gz'], ['ALLOW', 'foo.py'], ['DISALLOW', '*']]),
      step('review', [k.ed], [['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ['DISALLOW', '*']], [['DISALLOW', '*']]),
    ];
    /** write-code (RSA), package (DSA), review (Ed25519, by its newest subkey), in `dir`; returns the link files. */
    const chain = (dir, { changeCode = false } = {}) => {
      const work = join(dir, 'work');
      write(work, 'foo.py', 'print("hello")\n');
      const links = { 'write-code': record(work, 'write-code', k.rsa.fpr, { products: ['foo.py'] }) };
      // The product write-code recorded, changed before package used it.
      if (changeCode) write(work, 'foo.py', 'print("changed")\n');
      links.package = record(work, 'package', k.dsa.fpr, { materials: ['foo.py'], products: ['foo.py', 'foo.tar.gz'], command: TAR });
      links.review = record(work, 'review', k.ed.fpr, { materials: ['foo.tar.gz'], command: ['tar', 'tzf', 'foo.tar.gz'] });
      for (const file of Object.values(links)) cpSync(join(work, file), join(dir, file));
      rmSync(work, { recursive: true });
      return links;
    };
    const approve = (dir, signers) => {
      const work = join(dir, 'work');
      write(work, 'notes.txt', 'approved\n');
      const files = signers.map(([keyid, h]) => record(work, 'approve', keyid, { products: ['notes.txt'], command: ['true'] }, h));
      for (const file of files) cpSync(join(work, file), join(dir, file));
      rmSync(work, { recursive: true });
      return files;
    };
    const APPROVE = (keys, threshold) => [step('approve', keys, [['DISALLOW', '*']], [['ALLOW', 'notes.txt'], ['DISALLOW', '*']], threshold)];
    const newestEdSubkey = () => {
      const probe = join(newHome(), 'probe');
      mkdirSync(probe);
      const file = record(probe, 'probe', k.ed.fpr, { command: ['true'] });
      return k.ed.subkeys.find((id) => file === `probe.${id.slice(0, 8)}.link`);
    };
    const edDefault = newestEdSubkey();
    const edOther = k.ed.subkeys.find((id) => id !== edDefault);
    if (!edDefault || !edOther) throw new Error('could not tell which Ed25519 subkey gpg signs with');

    const scenarios = [
      {
        id: 'pass', name: 'write-code (RSA), package (DSA), review (Ed25519 subkey); the layout signed by the owner\'s RSA subkey, its key from the binary export', expect: 'pass',
        layoutKeys: [k.owner], keyForm: 'binary',
        build(dir) {
          chain(dir);
          signLayout(dir, layoutOf(CHAIN), k.owner);
        },
      },
      {
        id: 'product-changed', name: 'foo.py changed after write-code recorded it', expect: 'fail', codes: ['RULE_DISALLOW'], referenceSaid: /RuleVerificationError/,
        layoutKeys: [k.owner],
        build(dir) {
          chain(dir, { changeCode: true });
          signLayout(dir, layoutOf(CHAIN), k.owner);
        },
      },
      {
        id: 'link-signature-changed', name: 'one byte of the write-code link\'s OpenPGP signature changed', expect: 'fail', codes: ['SIGNATURE', 'THRESHOLD'], referenceSaid: /ThresholdVerificationError/,
        // With no write-code link counted, package's MATCH has no products to match foo.py with (the reference stops at the threshold).
        alsoAllowed: ['RULE_DISALLOW'],
        layoutKeys: [k.owner],
        build(dir) {
          const links = chain(dir);
          const file = join(dir, links['write-code']);
          const text = readFileSync(file, 'utf8');
          const sig = JSON.parse(text).signatures[0].signature;
          const at = sig.length >> 1;
          const flipped = `${sig.slice(0, at)}${(parseInt(sig[at], 16) ^ 1).toString(16)}${sig.slice(at + 1)}`;
          if (!text.includes(sig)) throw new Error('signature not found in the link text');
          writeFileSync(file, text.replace(sig, flipped));
          signLayout(dir, layoutOf(CHAIN), k.owner);
        },
      },
      {
        id: 'subkeys-count-once', name: 'threshold 2, one functionary (Ed25519), links by its two subkeys: one functionary, counted once', expect: 'fail', codes: ['THRESHOLD'], warnings: ['LINK_IGNORED'],
        referenceSaid: /ThresholdVerificationError.*'1'/,
        layoutKeys: [k.owner],
        build(dir) {
          const files = approve(dir, [[k.ed.fpr, home], [k.ed.fpr, homeSigningWith(k.ed, edOther)]]);
          const want = [edDefault, edOther].map((id) => `approve.${id.slice(0, 8)}.link`);
          if (files.join() !== want.join()) throw new Error(`approve links ${files}, expected ${want}`);
          signLayout(dir, layoutOf(APPROVE([k.ed], 2)), k.owner);
        },
      },
      {
        id: 'threshold-2-two-functionaries', name: 'threshold 2 met by the Ed25519 functionary (a subkey\'s link) and the RSA one', expect: 'pass',
        layoutKeys: [k.owner],
        build(dir) {
          approve(dir, [[k.ed.fpr, home], [k.rsa.fpr, home]]);
          signLayout(dir, layoutOf(APPROVE([k.ed, k.rsa], 2)), k.owner);
        },
      },
      {
        id: 'dsa-signed-layout', name: 'the layout signed by the DSA key, verified with it', expect: 'pass',
        layoutKeys: [k.dsa],
        build(dir) {
          chain(dir);
          signLayout(dir, layoutOf(CHAIN), k.dsa);
        },
      },
      {
        id: 'ed25519-subkey-signed-layout', name: 'the layout signed by the Ed25519 key (by its subkey), verified with the key from its export', expect: 'pass',
        layoutKeys: [k.ed], referenceExpect: 'fail', referenceSaid: /SignatureVerificationError|No signature found/,
        note: 'the reference fails: its export_pubkey drops Ed25519 subkeys (see the keys\' note), so it finds no signature by the key; the signature is valid',
        build(dir) {
          chain(dir);
          signLayout(dir, layoutOf(CHAIN), k.ed);
        },
      },
    ];

    const scenarioVectors = [];
    for (const s of scenarios) {
      const dir = join(pgpOut, 'scenarios', s.id);
      mkdirSync(dir, { recursive: true });
      s.build(dir);
      const files = listFiles(dir);
      // The reference's verdict, on a copy (nothing of it may land in the vectors).
      const copy = tmp('in-toto-conformance-pgp-');
      cpSync(dir, copy, { recursive: true });
      const result = spawnSync('/usr/bin/in-toto-verify', ['-l', 'root.layout', '-g', ...s.layoutKeys.map((key) => key.fpr), '--gpg-home', home], { cwd: copy, encoding: 'utf8' });
      rmSync(copy, { recursive: true });
      const reference = result.status === 0 ? 'pass' : 'fail';
      const said = `${result.stdout}${result.stderr}`.trim().split('\n');
      const referenceSays = reference === 'fail' ? (said.filter((line) => /Error/.test(line)).pop() ?? said.pop() ?? '') : '';
      if (reference !== (s.referenceExpect ?? s.expect)) throw new Error(`${s.id}: the reference says ${reference} (${said.join(' | ')}), expected ${s.referenceExpect ?? s.expect}`);
      if (s.referenceSaid && !s.referenceSaid.test(referenceSays)) throw new Error(`${s.id}: the reference failed for another reason: ${referenceSays}`);
      scenarioVectors.push({
        id: s.id,
        name: s.name,
        expect: s.expect,
        ...(s.codes ? { codes: s.codes } : {}),
        ...(s.warnings ? { warnings: s.warnings } : {}),
        ...(s.alsoAllowed ? { alsoAllowed: s.alsoAllowed } : {}),
        reference: { verdict: reference, ...(referenceSays ? { said: referenceSays } : {}) },
        ...(s.note ? { note: s.note } : {}),
        layout: 'root.layout',
        layoutKeys: s.layoutKeys.map((key) => ({ name: key.name, file: s.keyForm === 'binary' ? `keys/${key.name}.gpg` : `keys/${key.name}.asc` })),
        files,
      });
      console.log(`openpgp ${s.id}: ours ${s.expect}, reference ${reference}${referenceSays ? ` (${referenceSays})` : ''}`);
    }

    const gpgVersion = execFileSync(GPG, ['--version'], { encoding: 'utf8' }).split('\n')[0];
    writeFileSync(
      join(pgpOut, 'openpgp.json'),
      json({
        about: `OpenPGP vectors: keys made by ${gpgVersion} (\`keys/\`: gpg --export, armored and binary; \`dict\`: securesystemslib 0.26 export_pubkey, Debian in-toto 1.3.1), signatures by gpg --detach-sign --digest-algo SHA256 as the reference's parse_signature_packet reads them (each verdict confirmed by its verify_signature), and supply chains recorded with in-toto-run --gpg and signed with in-toto-sign --gpg, judged by in-toto-verify --gpg (\`reference\`); \`expect\`/\`codes\`/\`warnings\`: what this library must report when verifying at \`now\` (\`alsoAllowed\`: failure codes it may report besides, as consequences).`,
        now: NOW,
        keys: keyVectors,
        signatures: sigVectors,
        scenarios: scenarioVectors,
      }),
    );
    console.log(`wrote ${pgpOut}: ${listFiles(pgpOut).length} files, ${keyVectors.length} keys, ${sigVectors.length} signature vectors, ${scenarioVectors.length} scenarios`);
  } finally {
    for (const h of homes) {
      spawnSync(GPGCONF, ['--homedir', h, '--kill', 'all'], { stdio: 'ignore' });
      rmSync(h, { recursive: true, force: true });
    }
  }
}
