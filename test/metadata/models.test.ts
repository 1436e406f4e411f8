/**
 * The metadata models against the reference (Debian's in-toto 1.3.1): metadata the reference writes parses and
 * round-trips, every validation rule has a failing example whose verdict in the reference is recorded and
 * checked, the rule grammar agrees with `in_toto.rulelib.unpack_rule` token list by token list, and parameter
 * substitution agrees with `verifylib.substitute_parameters` (python's `str.format`).
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { InTotoError } from '../../bindings/errors.js';
import {
  createLayout,
  createLink,
  layoutToJSON,
  linkToJSON,
  listUnknownFields,
  parseLayout,
  parseLink,
  parseSigned,
  substituteParameters,
  type Layout,
  type Link,
} from '../../bindings/metadata/models.js';
import { parseRule, ruleToString, type ArtifactRule } from '../../bindings/metadata/rules.js';
import { assertReferenceInstalled, makeTempDir, runPython, runReference } from '../helpers/reference.js';
import { python, referenceRead, stable, type Doc, type Json } from '../helpers/models-reference.js';




function formatError(fn: () => unknown): InTotoError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InTotoError) return error;
    throw error;
  }
  throw new Error('expected an InTotoError, but nothing was thrown');
}

const clone = <T>(value: T): T => structuredClone(value);


beforeAll(() => {
  assertReferenceInstalled();
});

// ---------------------------------------------------------------------------------------------------------

describe('metadata written by the reference', () => {
  let dir: string;
  const links = new Map<string, Doc>();

  beforeAll(() => {
    dir = makeTempDir('in-toto-models-');
    const work = join(dir, 'work');
    mkdirSync(join(work, 'd'), { recursive: true });
    writeFileSync(join(work, '__proto__'), 'x');
    writeFileSync(join(work, 'constructor'), 'c');
    writeFileSync(join(work, 'sp ace'), 'y');
    writeFileSync(join(work, 'd', 'ü.txt'), 'z');
    const ok = (result: ReturnType<typeof runReference>) => {
      expect(result.status, result.stderr).toBe(0);
    };
    ok(runReference('in-toto-keygen', ['-t', 'ed25519', join(dir, 'key')], dir));
    const key = ['--key', join(dir, 'key'), '--key-type', 'ed25519'];
    ok(runReference('in-toto-run', ['-n', 'build', ...key, '-m', '.', '-p', '.', '-s', '--', 'sh', '-c', 'printf "out \\303\\274\\n"; printf "err\\n" >&2; exit 3'], work));
    ok(runReference('in-toto-run', ['-n', 'plain', ...key, '-m', '.', '-p', '.', '--', 'true'], work));
    ok(runReference('in-toto-run', ['-n', 'nocmd', ...key, '-m', 'sp ace', '-p', 'd', '--no-command'], work));
    ok(runReference('in-toto-record', ['start', '-n', 'rec', ...key, '-m', '.'], work));
    ok(runReference('in-toto-record', ['stop', '-n', 'rec', ...key, '-p', '.'], work));
    for (const file of readdirSync(work).filter((name) => name.endsWith('.link'))) {
      links.set(file.split('.')[0]!, JSON.parse(readFileSync(join(work, file), 'utf8')).signed as Doc);
    }
    expect([...links.keys()].sort()).toEqual(['build', 'nocmd', 'plain', 'rec']);
  });

  it('parses every link in-toto-run and in-toto-record write, and writes it back unchanged', () => {
    for (const [name, signed] of links) {
      const link = parseLink(signed);
      expect(link.name).toBe(name);
      expect(stable(linkToJSON(link)), name).toBe(stable(signed));
      expect(listUnknownFields(link)).toEqual([]);
    }
  });

  it('keeps what in-toto-run records: byproducts of a command, none without one, an empty environment', () => {
    const build = parseLink(links.get('build'));
    expect(build.byproducts).toEqual({ 'return-value': 3, stderr: 'err\n', stdout: 'out ü\n' });
    expect(build.command).toEqual(['sh', '-c', 'printf "out \\303\\274\\n"; printf "err\\n" >&2; exit 3']);
    expect(build.environment).toEqual({});
    // without --record-streams the streams are recorded as empty strings
    expect(parseLink(links.get('plain')).byproducts).toEqual({ 'return-value': 0, stderr: '', stdout: '' });
    const nocmd = parseLink(links.get('nocmd'));
    expect(nocmd.byproducts).toEqual({});
    expect(nocmd.command).toEqual([]);
    expect([...nocmd.products.keys()]).toEqual(['d/ü.txt']);
    const rec = parseLink(links.get('rec'));
    expect(rec.command).toEqual([]);
    expect(rec.byproducts).toEqual({});
  });

  it('treats artifact paths as data: __proto__ and constructor are ordinary paths', () => {
    const link = parseLink(links.get('build'));
    expect(link.materials.has('__proto__')).toBe(true);
    expect(link.materials.has('constructor')).toBe(true);
    expect(link.materials.get('__proto__')!.sha256).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
    const digests = link.materials.get('constructor')!;
    expect(Object.keys(digests)).toEqual(['sha256']);
    expect(digests['toString']).toBeUndefined();
    expect(Object.keys(linkToJSON(link).materials)).toContain('__proto__');
  });

  it('parses a layout built with in_toto.models.layout (all rule forms, three key types, an OpenPGP key)', () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa']) {
      const result = runReference('in-toto-keygen', ['-t', type, join(dir, type)], dir);
      expect(result.status, result.stderr).toBe(0);
    }
    const built = python<{ metablock: string; stepNames: string[] }>(BUILD_LAYOUT, { dir, gpgKey: GPG_KEY });
    const signed = JSON.parse(built.metablock).signed as Doc;
    const layout = parseLayout(signed);
    expect(stable(layoutToJSON(layout))).toBe(stable(signed));
    expect(layout.steps.map((step) => step.name)).toEqual(built.stepNames);
    expect(Object.keys(layout.keys)).toHaveLength(4);
    const [clone, build] = layout.steps;
    expect(clone!.threshold).toBe(1);
    expect(build!.threshold).toBe(2);
    expect(build!.expectedCommand).toEqual(['make', '-C', 'src dir']);
    expect(build!.expectedMaterials.map((rule) => rule.type)).toEqual(['MATCH', 'MATCH', 'MATCH', 'MATCH', 'DISALLOW']);
    expect(build!.expectedMaterials[3]).toEqual({
      type: 'MATCH',
      pattern: '*',
      srcPrefix: 'src',
      dstType: 'PRODUCTS',
      dstPrefix: 'out',
      step: 'clone',
      tokens: ['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'IN', 'out', 'FROM', 'clone'],
    });
    expect(build!.expectedProducts.map(ruleToString)).toEqual(['CREATE app', 'DELETE tmp', "MODIFY 'a b'", "ALLOW '*'", 'REQUIRE app']);
    expect(layout.inspect[0]!.run).toEqual(['tar', 'xf', 'app.tar']);
  });

  it('creates metadata with the defaults of python Layout(), Step(), Inspection() and Link()', () => {
    const defaults = python<{ layout: Doc; step: Doc; inspection: Doc; link: Doc }>(REFERENCE_DEFAULTS, null);
    const layout = createLayout({ steps: [{ name: 's' }], inspect: [{ name: 'i' }], expires: '2030-01-01T00:00:00Z' });
    const written = layoutToJSON(layout);
    expect(written.steps[0]).toEqual(defaults.step);
    expect(written.inspect[0]).toEqual(defaults.inspection);
    expect(layoutToJSON(createLayout({ expires: '2030-01-01T00:00:00Z' }))).toEqual(defaults.layout);
    expect(linkToJSON(createLink({ name: 'l' }))).toEqual(defaults.link);
    // validated as the reference's constructors validate
    expect(formatError(() => createLayout({ steps: [{ name: 's', threshold: 0 }] })).field).toBe('steps[0].threshold');
    expect(formatError(() => createLink({ name: 'l', materials: { a: { sha256: 'xyz' } } })).field).toBe('materials["a"]["sha256"]');
  });

  it("sets a new layout's expiry one month ahead, as relativedelta(months=1) does", () => {
    const dates = ['2024-01-31T12:34:56', '2023-01-31T00:00:00', '2024-02-29T23:59:59', '2024-03-31T01:02:03', '2024-12-15T10:00:00', '2024-12-31T23:59:59', '2025-05-31T00:00:00', '2024-06-30T00:00:00'];
    const expected = python<string[]>(ONE_MONTH_LATER, dates);
    expect(dates.map((date) => createLayout({}, new Date(`${date}Z`)).expires)).toEqual(expected);
    // python treats an empty expiry like a missing one
    expect(createLayout({ expires: '' }, new Date('2024-01-31T12:34:56.789Z')).expires).toBe('2024-02-29T12:34:56Z');
  });
});

const BUILD_LAYOUT = `
import json, sys, os
from securesystemslib import interface
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
args = json.load(sys.stdin)
d = args["dir"]
keys = interface.import_publickeys_from_file(
    [os.path.join(d, n + ".pub") for n in ("ed25519", "rsa", "ecdsa")], ["ed25519", "rsa", "ecdsa"])
ids = list(keys)
layout = Layout()
layout.set_relative_expiration(months=6)
for key in keys.values():
    layout.add_functionary_key(key)
layout.add_functionary_key(args["gpgKey"])
clone = Step(name="clone", pubkeys=[ids[0]])
clone.set_expected_command_from_string("git clone https://example.com/x.git")
clone.add_product_rule_from_string("CREATE *")
build = Step(name="build", pubkeys=ids[1:] + [args["gpgKey"]["keyid"]], threshold=2)
build.set_expected_command_from_string("make -C 'src dir'")
for rule in ("MATCH * WITH PRODUCTS FROM clone", "match *.c in src with materials from clone",
             "MATCH * WITH PRODUCTS IN out FROM clone", "MATCH * IN src WITH PRODUCTS IN out FROM clone",
             "DISALLOW *"):
    build.add_material_rule_from_string(rule)
for rule in ("CREATE app", "DELETE tmp", "MODIFY 'a b'", "ALLOW *", "REQUIRE app"):
    build.add_product_rule_from_string(rule)
untar = Inspection(name="untar")
untar.set_run_from_string("tar xf app.tar")
untar.add_material_rule_from_string("MATCH app.tar WITH PRODUCTS FROM build")
layout.steps = [clone, build]
layout.inspect = [untar]
layout.readme = "built by the models test"
layout.validate()
print(json.dumps({"metablock": repr(Metablock(signed=layout)), "stepNames": layout.get_step_name_list()}))
`;

const REFERENCE_DEFAULTS = `
import json, attr
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.link import Link
print(json.dumps({
    "layout": attr.asdict(Layout(expires="2030-01-01T00:00:00Z")),
    "step": attr.asdict(Step(name="s")),
    "inspection": attr.asdict(Inspection(name="i")),
    "link": attr.asdict(Link(name="l")),
}))
`;

/** What Layout.set_relative_expiration(months=1) computes, for fixed start dates. */
const ONE_MONTH_LATER = `
import json, sys
from datetime import datetime
from dateutil.relativedelta import relativedelta
print(json.dumps([(datetime.fromisoformat(d) + relativedelta(months=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
                  for d in json.load(sys.stdin)]))
`;

// ---------------------------------------------------------------------------------------------------------
// Validation: one failing example per rule, with the reference's verdict on the same document

const ED_ID = '37df043cc0fca1a9dd7bdd02e3b45a0e5582df647302fdd675fb7842a06d0b2b';
const GPG_ID = '8465a1e2e0fb2b40adb2478e18fb3f537e0c8a17';
const GPG_SUB_ID = 'c5a0abe6ec19d0d65f85e2c39be9df5131d924e9';
const gpgRsa = (keyid: string) => ({
  type: 'rsa',
  method: 'pgp+rsa-pkcsv1.5',
  hashes: ['pgp+SHA2'],
  creation_time: 1519661780,
  keyid,
  keyval: { public: { e: '010001', n: 'c152fc1f9ee1f5ae6f0ca71ad09ce3b3' }, private: '' },
});
const GPG_KEY = { ...gpgRsa(GPG_ID), subkeys: { [GPG_SUB_ID]: gpgRsa(GPG_SUB_ID) } };

function baseLayout(): Doc {
  return clone({
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: 'a test layout',
    keys: {
      [ED_ID]: {
        keyid: ED_ID,
        keytype: 'ed25519',
        scheme: 'ed25519',
        keyid_hash_algorithms: ['sha256', 'sha512'],
        keyval: { public: 'cd8eaabd300aef25b86753b24dd3f9a4c3d0dad7a53b83b02a70af6b6a70a768' },
      },
      [GPG_ID]: GPG_KEY,
    },
    steps: [
      { _type: 'step', name: 'clone', expected_materials: [], expected_products: [['CREATE', '*']], pubkeys: [ED_ID], expected_command: ['git', 'clone'], threshold: 1 },
      {
        _type: 'step',
        name: 'build',
        expected_materials: [['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'clone'], ['DISALLOW', '*']],
        expected_products: [['CREATE', 'app'], ['DELETE', 'tmp'], ['MODIFY', 'x'], ['ALLOW', '*'], ['REQUIRE', 'app']],
        pubkeys: [ED_ID, GPG_SUB_ID],
        expected_command: [],
        threshold: 2,
      },
    ],
    inspect: [
      {
        _type: 'inspection',
        name: 'untar',
        expected_materials: [['MATCH', 'app', 'IN', 'dist', 'WITH', 'PRODUCTS', 'IN', 'out', 'FROM', 'build']],
        expected_products: [],
        run: ['tar', 'xf', 'app.tar'],
      },
    ],
  } as Doc);
}

function baseLink(): Doc {
  return {
    _type: 'link',
    name: 'build',
    materials: { 'src/a.c': { sha256: 'ab'.repeat(32) } },
    products: { app: { sha256: 'cd'.repeat(32), sha512: 'ef'.repeat(64) } },
    byproducts: { stdout: '', stderr: '', 'return-value': 0 },
    command: ['make'],
    environment: {},
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Invalid {
  name: string;
  kind: 'layout' | 'link';
  /** Changes the base document... */
  change?: (doc: any) => unknown;
  /** ...or replaces it. */
  replace?: unknown;
  field: string;
  /** What in-toto 1.3.1 does with it; where it does not refuse, we are deliberately stricter (see models.ts). */
  reference: Verdict;
}

const key = (doc: any) => doc.keys[ED_ID];
const gpg = (doc: any) => doc.keys[GPG_ID];

const INVALID: Invalid[] = [
  { name: 'a layout that is not an object', kind: 'layout', replace: [], field: '', reference: 'refuses' },
  { name: 'no _type', kind: 'layout', change: (d) => delete d._type, field: '_type', reference: 'rewrites' },
  { name: '_type "link" in a layout', kind: 'layout', change: (d) => (d._type = 'link'), field: '_type', reference: 'rewrites' },
  { name: 'no steps', kind: 'layout', change: (d) => delete d.steps, field: 'steps', reference: 'refuses' },
  { name: 'steps an object', kind: 'layout', change: (d) => (d.steps = {}), field: 'steps', reference: 'rewrites' },
  { name: 'steps a string', kind: 'layout', change: (d) => (d.steps = 'ab'), field: 'steps', reference: 'refuses' },
  { name: 'no inspect', kind: 'layout', change: (d) => delete d.inspect, field: 'inspect', reference: 'refuses' },
  { name: 'inspect null', kind: 'layout', change: (d) => (d.inspect = null), field: 'inspect', reference: 'refuses' },
  { name: 'no keys', kind: 'layout', change: (d) => delete d.keys, field: 'keys', reference: 'rewrites' },
  { name: 'keys an array', kind: 'layout', change: (d) => (d.keys = []), field: 'keys', reference: 'refuses' },
  { name: 'a key id that is not hex', kind: 'layout', change: (d) => (d.keys = { zz: { keytype: 'ed25519', keyval: { public: 'ab' } } }), field: 'keys["zz"]', reference: 'refuses' },
  { name: 'a key that is not an object', kind: 'layout', change: (d) => (d.keys[ED_ID] = 'ed25519'), field: `keys["${ED_ID}"]`, reference: 'refuses' },
  { name: 'a key without keytype', kind: 'layout', change: (d) => delete key(d).keytype, field: `keys["${ED_ID}"].keytype`, reference: 'refuses' },
  { name: 'a key without keyval', kind: 'layout', change: (d) => delete key(d).keyval, field: `keys["${ED_ID}"].keyval`, reference: 'refuses' },
  { name: 'keyval.public not a string', kind: 'layout', change: (d) => (key(d).keyval.public = 5), field: `keys["${ED_ID}"].keyval.public`, reference: 'refuses' },
  { name: 'a private key in a layout', kind: 'layout', change: (d) => (key(d).keyval.private = 'secret'), field: `keys["${ED_ID}"].keyval.private`, reference: 'refuses' },
  { name: 'an unknown keyid hash algorithm', kind: 'layout', change: (d) => (key(d).keyid_hash_algorithms = ['sha256', 'md4']), field: `keys["${ED_ID}"].keyid_hash_algorithms[1]`, reference: 'refuses' },
  { name: 'a malformed key expiry', kind: 'layout', change: (d) => (key(d).expires = '2030-01-01'), field: `keys["${ED_ID}"].expires`, reference: 'refuses' },
  { name: 'a key whose keyid differs from its entry', kind: 'layout', change: (d) => (key(d).keyid = 'b'.repeat(64)), field: `keys["${ED_ID}"].keyid`, reference: 'accepts' },
  { name: 'an OpenPGP key with the wrong method', kind: 'layout', change: (d) => (gpg(d).method = 'pgp+rsa-pss'), field: `keys["${GPG_ID}"].method`, reference: 'refuses' },
  { name: 'an OpenPGP key whose modulus is not hex', kind: 'layout', change: (d) => (gpg(d).keyval.public.n = 'xyz'), field: `keys["${GPG_ID}"].keyval.public.n`, reference: 'refuses' },
  { name: 'an OpenPGP key with a private part', kind: 'layout', change: (d) => (gpg(d).keyval.private = 'x'), field: `keys["${GPG_ID}"].keyval.private`, reference: 'refuses' },
  { name: 'a negative OpenPGP creation time', kind: 'layout', change: (d) => (gpg(d).creation_time = -1), field: `keys["${GPG_ID}"].creation_time`, reference: 'refuses' },
  { name: 'an OpenPGP subkey of another type', kind: 'layout', change: (d) => (gpg(d).subkeys[GPG_SUB_ID].type = 'dsa'), field: `keys["${GPG_ID}"].subkeys["${GPG_SUB_ID}"].type`, reference: 'refuses' },
  { name: 'no expires', kind: 'layout', change: (d) => delete d.expires, field: 'expires', reference: 'rewrites' },
  { name: 'an empty expires', kind: 'layout', change: (d) => (d.expires = ''), field: 'expires', reference: 'rewrites' },
  { name: 'expires without Z', kind: 'layout', change: (d) => (d.expires = '2030-01-01T00:00:00'), field: 'expires', reference: 'refuses' },
  { name: 'expires with a space for T', kind: 'layout', change: (d) => (d.expires = '2030-01-01 00:00:00Z'), field: 'expires', reference: 'refuses' },
  { name: 'expires on February 30th', kind: 'layout', change: (d) => (d.expires = '2024-02-30T00:00:00Z'), field: 'expires', reference: 'refuses' },
  { name: 'expires on February 29th of 1900', kind: 'layout', change: (d) => (d.expires = '1900-02-29T00:00:00Z'), field: 'expires', reference: 'refuses' },
  { name: 'expires at hour 24', kind: 'layout', change: (d) => (d.expires = '2030-01-01T24:00:00Z'), field: 'expires', reference: 'refuses' },
  { name: 'expires in year 0', kind: 'layout', change: (d) => (d.expires = '0000-01-01T00:00:00Z'), field: 'expires', reference: 'refuses' },
  { name: 'expires a number', kind: 'layout', change: (d) => (d.expires = 1893456000), field: 'expires', reference: 'refuses' },
  { name: 'expires with a trailing newline', kind: 'layout', change: (d) => (d.expires = '2030-01-01T00:00:00Z\n'), field: 'expires', reference: 'accepts' },
  { name: 'expires with an Arabic-Indic digit', kind: 'layout', change: (d) => (d.expires = '\u0662030-01-01T00:00:00Z'), field: 'expires', reference: 'accepts' },
  { name: 'no readme', kind: 'layout', change: (d) => delete d.readme, field: 'readme', reference: 'rewrites' },
  { name: 'readme a number', kind: 'layout', change: (d) => (d.readme = 1), field: 'readme', reference: 'refuses' },
  { name: 'a step that is not an object', kind: 'layout', change: (d) => (d.steps[0] = 'clone'), field: 'steps[0]', reference: 'refuses' },
  { name: 'a step without _type', kind: 'layout', change: (d) => delete d.steps[0]._type, field: 'steps[0]._type', reference: 'rewrites' },
  { name: 'a step with _type "inspection"', kind: 'layout', change: (d) => (d.steps[1]._type = 'inspection'), field: 'steps[1]._type', reference: 'rewrites' },
  { name: 'a step without a name', kind: 'layout', change: (d) => delete d.steps[1].name, field: 'steps[1].name', reference: 'rewrites' },
  { name: 'a step named by a number', kind: 'layout', change: (d) => (d.steps[1].name = 7), field: 'steps[1].name', reference: 'accepts' },
  { name: 'two steps with one name', kind: 'layout', change: (d) => (d.steps[1].name = 'clone'), field: 'steps[1].name', reference: 'refuses' },
  { name: 'an inspection named like a step', kind: 'layout', change: (d) => (d.inspect[0].name = 'build'), field: 'inspect[0].name', reference: 'refuses' },
  { name: 'two inspections with one name', kind: 'layout', change: (d) => d.inspect.push(clone(d.inspect[0])), field: 'inspect[1].name', reference: 'refuses' },
  { name: 'threshold 0', kind: 'layout', change: (d) => (d.steps[1].threshold = 0), field: 'steps[1].threshold', reference: 'accepts' },
  { name: 'threshold -1', kind: 'layout', change: (d) => (d.steps[1].threshold = -1), field: 'steps[1].threshold', reference: 'accepts' },
  { name: 'threshold true', kind: 'layout', change: (d) => (d.steps[1].threshold = true), field: 'steps[1].threshold', reference: 'accepts' },
  { name: 'threshold a string', kind: 'layout', change: (d) => (d.steps[1].threshold = '2'), field: 'steps[1].threshold', reference: 'refuses' },
  { name: 'threshold 1.5', kind: 'layout', change: (d) => (d.steps[1].threshold = 1.5), field: 'steps[1].threshold', reference: 'refuses' },
  { name: 'no threshold', kind: 'layout', change: (d) => delete d.steps[1].threshold, field: 'steps[1].threshold', reference: 'rewrites' },
  { name: 'pubkeys not an array', kind: 'layout', change: (d) => (d.steps[0].pubkeys = ED_ID), field: 'steps[0].pubkeys', reference: 'refuses' },
  { name: 'a pubkey that is not hex', kind: 'layout', change: (d) => (d.steps[1].pubkeys[1] = 'alice'), field: 'steps[1].pubkeys[1]', reference: 'refuses' },
  { name: 'no pubkeys', kind: 'layout', change: (d) => delete d.steps[0].pubkeys, field: 'steps[0].pubkeys', reference: 'rewrites' },
  { name: 'expected_command a string', kind: 'layout', change: (d) => (d.steps[0].expected_command = 'git clone'), field: 'steps[0].expected_command', reference: 'refuses' },
  { name: 'expected_command holding a number', kind: 'layout', change: (d) => (d.steps[0].expected_command[1] = 1), field: 'steps[0].expected_command[1]', reference: 'accepts' },
  { name: 'no expected_command', kind: 'layout', change: (d) => delete d.steps[0].expected_command, field: 'steps[0].expected_command', reference: 'rewrites' },
  { name: 'expected_materials a string', kind: 'layout', change: (d) => (d.steps[1].expected_materials = 'DISALLOW *'), field: 'steps[1].expected_materials', reference: 'refuses' },
  { name: 'no expected_products', kind: 'layout', change: (d) => delete d.steps[0].expected_products, field: 'steps[0].expected_products', reference: 'rewrites' },
  { name: 'a rule written as a string', kind: 'layout', change: (d) => (d.steps[0].expected_products[0] = 'CREATE *'), field: 'steps[0].expected_products[0]', reference: 'refuses' },
  { name: 'a rule token that is a number', kind: 'layout', change: (d) => (d.steps[0].expected_products[0] = ['CREATE', 1]), field: 'steps[0].expected_products[0][1]', reference: 'refuses' },
  { name: 'a generic rule with three tokens', kind: 'layout', change: (d) => (d.steps[1].expected_products[2] = ['MODIFY', 'x', 'y']), field: 'steps[1].expected_products[2]', reference: 'refuses' },
  { name: 'a MATCH rule without FROM', kind: 'layout', change: (d) => (d.steps[1].expected_materials[0] = ['MATCH', '*', 'WITH', 'PRODUCTS']), field: 'steps[1].expected_materials[0]', reference: 'refuses' },
  { name: 'an unknown rule keyword', kind: 'layout', change: (d) => (d.inspect[0].expected_products = [['COPY', 'a']]), field: 'inspect[0].expected_products[0]', reference: 'refuses' },
  { name: 'an inspection that is not an object', kind: 'layout', change: (d) => (d.inspect[0] = null), field: 'inspect[0]', reference: 'refuses' },
  { name: 'an inspection with _type "step"', kind: 'layout', change: (d) => (d.inspect[0]._type = 'step'), field: 'inspect[0]._type', reference: 'rewrites' },
  { name: 'run a string', kind: 'layout', change: (d) => (d.inspect[0].run = 'tar xf app.tar'), field: 'inspect[0].run', reference: 'refuses' },
  { name: 'run holding null', kind: 'layout', change: (d) => (d.inspect[0].run[0] = null), field: 'inspect[0].run[0]', reference: 'accepts' },
  { name: 'no run', kind: 'layout', change: (d) => delete d.inspect[0].run, field: 'inspect[0].run', reference: 'rewrites' },

  { name: 'a link that is not an object', kind: 'link', replace: null, field: '', reference: 'refuses' },
  { name: 'no _type', kind: 'link', change: (d) => delete d._type, field: '_type', reference: 'rewrites' },
  { name: '_type "layout" in a link', kind: 'link', change: (d) => (d._type = 'layout'), field: '_type', reference: 'rewrites' },
  { name: 'no name', kind: 'link', change: (d) => delete d.name, field: 'name', reference: 'rewrites' },
  { name: 'a name that is a number', kind: 'link', change: (d) => (d.name = 1), field: 'name', reference: 'accepts' },
  { name: 'materials an array', kind: 'link', change: (d) => (d.materials = []), field: 'materials', reference: 'refuses' },
  { name: 'no materials', kind: 'link', change: (d) => delete d.materials, field: 'materials', reference: 'rewrites' },
  { name: 'an artifact that is not an object', kind: 'link', change: (d) => (d.materials['src/a.c'] = 'ab'.repeat(32)), field: 'materials["src/a.c"]', reference: 'refuses' },
  { name: 'a digest that is not hex', kind: 'link', change: (d) => (d.products.app.sha512 = 'xyz'), field: 'products["app"]["sha512"]', reference: 'refuses' },
  { name: 'an empty digest', kind: 'link', change: (d) => (d.products.app.sha256 = ''), field: 'products["app"]["sha256"]', reference: 'refuses' },
  { name: 'a digest that is a number', kind: 'link', change: (d) => (d.products.app.sha256 = 12), field: 'products["app"]["sha256"]', reference: 'refuses' },
  { name: 'a digest with a trailing newline', kind: 'link', change: (d) => (d.products.app.sha256 += '\n'), field: 'products["app"]["sha256"]', reference: 'accepts' },
  { name: 'no products', kind: 'link', change: (d) => delete d.products, field: 'products', reference: 'rewrites' },
  { name: 'byproducts null', kind: 'link', change: (d) => (d.byproducts = null), field: 'byproducts', reference: 'refuses' },
  { name: 'no byproducts', kind: 'link', change: (d) => delete d.byproducts, field: 'byproducts', reference: 'rewrites' },
  { name: 'command a string', kind: 'link', change: (d) => (d.command = 'make'), field: 'command', reference: 'refuses' },
  { name: 'command holding a number', kind: 'link', change: (d) => (d.command = [1]), field: 'command[0]', reference: 'accepts' },
  { name: 'environment null', kind: 'link', change: (d) => (d.environment = null), field: 'environment', reference: 'refuses' },
  { name: 'environment an array', kind: 'link', change: (d) => (d.environment = []), field: 'environment', reference: 'refuses' },
  { name: 'no environment', kind: 'link', change: (d) => delete d.environment, field: 'environment', reference: 'rewrites' },
];

function invalidDoc(example: Invalid): unknown {
  if (example.change === undefined) return example.replace;
  const doc = example.kind === 'layout' ? baseLayout() : baseLink();
  example.change(doc);
  return doc;
}

describe('validation', () => {
  let verdicts: ReferenceRead[];
  beforeAll(() => {
    verdicts = referenceRead([
      { kind: 'layout', doc: baseLayout() },
      { kind: 'link', doc: baseLink() },
      ...INVALID.map((example) => ({ kind: example.kind, doc: invalidDoc(example) })),
    ]);
  });

  it('accepts the base documents, as the reference does', () => {
    expect(verdicts[0]!.verdict, verdicts[0]!.error).toBe('accepts');
    expect(verdicts[1]!.verdict, verdicts[1]!.error).toBe('accepts');
    expect(stable(layoutToJSON(parseLayout(baseLayout())))).toBe(stable(baseLayout()));
    expect(stable(linkToJSON(parseLink(baseLink())))).toBe(stable(baseLink()));
  });

  it.each(INVALID.map((example, i) => [`${example.kind}: ${example.name}`, example, i] as const))('refuses %s', (_, example, i) => {
    expect(verdicts[i + 2]!.verdict, `in-toto 1.3.1 ${verdicts[i + 2]!.error ?? ''}`).toBe(example.reference);
    const parse = example.kind === 'layout' ? parseLayout : parseLink;
    const error = formatError(() => parse(invalidDoc(example)));
    expect(error.code).toBe('FORMAT');
    expect(error.field).toBe(example.field);
    expect(error.message.startsWith(example.field || 'metadata')).toBe(true);
  });

  it('names the step and the offending value in messages', () => {
    const doc = baseLayout() as any;
    doc.steps[1].threshold = 0;
    const error = formatError(() => parseLayout(doc));
    expect(error.message).toBe("steps[1].threshold (step 'build'): must be an integer from 1 to 9007199254740991, got the number 0");
    expect(error.step).toBe('build');
    doc.steps[1].threshold = 2;
    doc.inspect[0].name = 'clone';
    expect(formatError(() => parseLayout(doc)).message).toContain('already used by steps[0]');
  });

  it('prefixes fields with the given root', () => {
    const doc = baseLayout() as any;
    doc.steps[1].expected_products[2] = ['MODIFY'];
    expect(formatError(() => parseLayout(doc, { root: 'signed' })).field).toBe('signed.steps[1].expected_products[2]');
    expect(formatError(() => parseLink({ ...baseLink(), name: 1 }, { root: 'payload' })).field).toBe('payload.name');
  });

  it('dispatches on _type, refusing other types as Metablock.load does', () => {
    expect(parseSigned(baseLayout()).type).toBe('layout');
    expect(parseSigned(baseLink()).type).toBe('link');
    const others = [{ ...baseLink(), _type: 'example' }, { ...baseLink(), _type: undefined }, 'link'];
    const reference = referenceRead(others.map((doc) => ({ kind: 'signed' as const, doc: doc as Json })));
    expect(reference.map((read) => read.verdict)).toEqual(['refuses', 'refuses', 'refuses']);
    expect(formatError(() => parseSigned(others[0])).field).toBe('_type');
    expect(formatError(() => parseSigned({ ...baseLink(), _type: undefined })).field).toBe('_type');
    expect(formatError(() => parseSigned('link')).field).toBe('');
  });

  it('accepts what the reference accepts although it looks odd', () => {
    const doc = baseLayout() as any;
    doc.steps[0].pubkeys = ['ABCDEF', 'f'.repeat(64), 'f'.repeat(64)]; // short, upper-case, duplicate, unknown ids
    doc.steps[0].threshold = 5; // more than the pubkeys could give
    doc.steps[0].name = '';
    doc.keys = { [GPG_ID]: GPG_KEY, ['ab'.repeat(32)]: { keytype: 'anything', keyval: { public: '', private: '' } } };
    const link = baseLink() as any;
    link.materials.empty = {};
    link.products.app = { SHA256: 'ABCDEF' };
    link.byproducts = { 'return-value': 'zero', extra: [1, { a: null }] };
    expect(referenceRead([{ kind: 'layout', doc }, { kind: 'link', doc: link }]).map((read) => read.verdict)).toEqual(['accepts', 'accepts']);
    expect(stable(layoutToJSON(parseLayout(doc)))).toBe(stable(doc));
    expect(stable(linkToJSON(parseLink(link)))).toBe(stable(link));
  });
});

// ---------------------------------------------------------------------------------------------------------
// The rule grammar against in_toto.rulelib.unpack_rule

const UNPACK = `
import json, sys
from in_toto.rulelib import unpack_rule
out = []
for rule in json.load(sys.stdin):
    try:
        out.append({"ok": unpack_rule(rule)})
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`;

/** Our rule in the shape `unpack_rule` returns. */
function unpacked(rule: ArtifactRule): Record<string, string> {
  if (rule.type === 'MATCH') {
    return {
      rule_type: 'match',
      pattern: rule.pattern,
      source_prefix: rule.srcPrefix ?? '',
      dest_prefix: rule.dstPrefix ?? '',
      dest_type: rule.dstType.toLowerCase(),
      dest_name: rule.step,
    };
  }
  return { rule_type: rule.type.toLowerCase(), pattern: rule.type === 'REQUIRE' ? rule.filename : rule.pattern };
}

const M = ['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'IN', 'dst', 'FROM', 'step'];
const RULE_TABLE: unknown[] = [
  // every keyword, any case
  ['CREATE', 'foo'], ['create', 'Foo'], ['DeLeTe', 'x'], ['MODIFY', '*'], ['allow', 'a b'], ['DISALLOW', ''], ['REQUIRE', 'foo.tar.gz'], ['require', '*'],
  ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 's'],
  ['match', '*.c', 'with', 'materials', 'from', 'Step'],
  ['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'FROM', 's'],
  ['MATCH', '*', 'WITH', 'MATERIALS', 'IN', 'dst', 'FROM', 's'],
  M,
  ['Match', '*', 'In', '', 'WiTh', 'Products', 'iN', '', 'fRoM', 's'],
  ['MATCH', 'IN', 'IN', 'WITH', 'WITH', 'PRODUCTS', 'FROM', 'FROM'],
  ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', ''],
  // wrong token counts, every form
  [], ['CREATE'], ['create', 'a', 'b'], ['REQUIRE'], ['REQUIRE', 'a', 'b'], ['DISALLOW', '*', 'IN', 'x'],
  ['MATCH'], ['MATCH', '*'], ['MATCH', '*', 'WITH'], ['MATCH', '*', 'WITH', 'PRODUCTS'], ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM'],
  ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 's', 'x'], ['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'FROM'],
  ['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'FROM', 's', 'x'], ['MATCH', '*', 'WITH', 'PRODUCTS', 'IN', 'dst', 'FROM'],
  ['MATCH', '*', 'WITH', 'PRODUCTS', 'IN', 'dst', 'FROM', 's', 'x'], M.slice(0, 9), [...M, 'x'], [...M, 'FROM', 's'],
  // keywords out of place or misspelt
  ['COPY', 'a'], ['', 'a'], ['MATCH', '*', 'FROM', 's', 'WITH', 'PRODUCTS'], ['MATCH', '*', 'WITH', 'STUFF', 'FROM', 's'],
  ['MATCH', '*', 'WITH', 'PRODUCT', 'FROM', 's'], ['MATCH', '*', 'WITH', 'MATERIAL', 'FROM', 's'],
  ['MATCH', '*', 'IN', 'src', 'IN', 'x', 'WITH', 'PRODUCTS', 'FROM', 's'], ['MATCH', '*', 'WITH', 'PRODUCTS', 'IN', 'FROM', 's'],
  ['MATCH', '*', 'IN', 'a', 'WITH', 'PRODUCTS', 'FROM', 'b', 'FROM', 'c'], ['CREATE', 'MATCH'], ['MATCH', 'MATCH', 'WITH', 'MATCH', 'FROM', 'MATCH'],
  // non-ASCII look-alikes: python's lower() and ours agree on them
  ['MATCH', '*', '\u0130N', 'src', 'WITH', 'PRODUCTS', 'FROM', 's'], ['\uff23\uff32\uff25\uff21\uff34\uff25', 'a'], ['CREATE\u0000', 'a'],
  ['MATCH', '*', 'WITH', 'PRODUCT\u017f', 'FROM', 's'], ['\u212aREATE', 'a'],
  // not a list of strings
  'CREATE foo', null, 5, { 0: 'CREATE', 1: 'a' }, ['CREATE', 1], ['CREATE', null], [['CREATE'], 'a'],
];

describe('artifact rules', () => {
  const parse = (tokens: unknown) => parseRule(tokens, { field: 'rule' });

  function compareWithReference(rules: unknown[]): void {
    const reference = python<({ ok: Record<string, string> } | { error: string })[]>(UNPACK, rules);
    rules.forEach((tokens, i) => {
      const expected = reference[i]!;
      const label = JSON.stringify(tokens);
      if ('ok' in expected) {
        const rule = parse(tokens);
        expect(unpacked(rule), label).toEqual(expected.ok);
        expect(rule.tokens, label).toEqual(tokens);
      } else {
        expect(expected.error, label).toBe('FormatError');
        const error = formatError(() => parse(tokens));
        expect(error.code, label).toBe('FORMAT');
        expect(error.field?.startsWith('rule'), label).toBe(true);
      }
    });
  }

  it('accepts and refuses exactly what unpack_rule does (table)', () => {
    compareWithReference(RULE_TABLE);
  });

  it('accepts and refuses exactly what unpack_rule does (mutations of valid rules)', () => {
    const vocabulary = ['MATCH', 'match', 'CREATE', 'delete', 'Modify', 'ALLOW', 'DISALLOW', 'require', 'IN', 'in', 'WITH', 'With', 'FROM', 'from', 'MATERIALS', 'products', 'Products', 'PRODUCT', '*', 'foo', 's', ''];
    const forms = [M, M.slice(0, 2).concat(M.slice(4)), M.slice(0, 6).concat(M.slice(8)), M.slice(0, 2).concat(M.slice(4, 6), M.slice(8)), ['CREATE', 'x'], ['REQUIRE', 'y']];
    const edit = fc.oneof(
      fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...vocabulary) }),
      fc.record({ op: fc.constant('replace' as const), at: fc.nat(), token: fc.constantFrom(...vocabulary) }),
    );
    const rules = fc.sample(
      fc.tuple(fc.constantFrom(...forms), fc.array(edit, { maxLength: 2 })).map(([form, edits]) => {
        const tokens = [...form];
        for (const { op, at, ...rest } of edits) {
          const i = at % (tokens.length + 1);
          if (op === 'delete') tokens.splice(i, 1);
          else if (op === 'insert') tokens.splice(i, 0, (rest as { token: string }).token);
          else if (i < tokens.length) tokens[i] = (rest as { token: string }).token;
        }
        return tokens;
      }),
      { numRuns: 3000, seed: 20261125 },
    );
    const valid = rules.filter((tokens) => {
      try {
        parse(tokens);
        return true;
      } catch {
        return false;
      }
    });
    expect(valid.length).toBeGreaterThan(300); // the sample reaches both verdicts often
    expect(rules.length - valid.length).toBeGreaterThan(300);
    compareWithReference(rules);
  });

  it('keeps an IN clause only when written, and prefixes and names as written', () => {
    expect(parse(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 's'])).toEqual({ type: 'MATCH', pattern: '*', dstType: 'PRODUCTS', step: 's', tokens: ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 's'] });
    const rule = parse(['match', 'A*', 'in', '', 'with', 'Materials', 'IN', 'Out/', 'from', 'Build']);
    expect(rule).toMatchObject({ type: 'MATCH', pattern: 'A*', srcPrefix: '', dstType: 'MATERIALS', dstPrefix: 'Out/', step: 'Build' });
    expect(parse(['require', 'Foo'])).toEqual({ type: 'REQUIRE', filename: 'Foo', tokens: ['require', 'Foo'] });
    expect(parse(['Disallow', 'B*'])).toEqual({ type: 'DISALLOW', pattern: 'B*', tokens: ['Disallow', 'B*'] });
  });

  it('names the step, the side and the rule index in errors', () => {
    const doc = baseLayout() as any;
    doc.inspect[0].expected_materials.push(['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM']);
    const error = formatError(() => parseLayout(doc));
    expect(error.field).toBe('inspect[0].expected_materials[1]');
    expect(error.step).toBe('untar');
    expect(error.rule).toBe('MATCH app WITH PRODUCTS FROM');
    expect(error.message).toBe(
      "inspect[0].expected_materials[1] (inspection 'untar'): invalid artifact rule `MATCH app WITH PRODUCTS FROM`: a MATCH rule reads " +
        'MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>',
    );
    const generic = formatError(() => parseRule(['CREATE'], { field: 'steps[3].expected_products[7]', step: 'build', kind: 'step' }));
    expect(generic.message).toContain("steps[3].expected_products[7] (step 'build'): invalid artifact rule `CREATE`");
  });

  it('writes rules as python shlex.join does, so shlex.split gives the tokens back', () => {
    const tokenLists = [['CREATE', 'foo'], ['ALLOW', 'a b'], ['MODIFY', ''], ['DELETE', "it's"], ['REQUIRE', 'ü'], ['ALLOW', '$HOME/*.c'], ['MATCH', 'x;y', 'IN', 'a"b', 'WITH', 'PRODUCTS', 'FROM', 'st\nep'], ['ALLOW', '@%+=:,./-_aZ9']];
    const reference = python<{ joined: string; split: string[] }[]>(
      'import json, shlex, sys\nprint(json.dumps([{"joined": shlex.join(t), "split": shlex.split(shlex.join(t))} for t in json.load(sys.stdin)]))',
      tokenLists,
    );
    tokenLists.forEach((tokens, i) => {
      expect(ruleToString(parse(tokens))).toBe(reference[i]!.joined);
      expect(reference[i]!.split).toEqual(tokens);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Parameter substitution against verifylib.substitute_parameters

const SUBSTITUTE = `
import json, sys, attr
from in_toto.models.layout import Layout
from in_toto.verifylib import substitute_parameters
out = []
for case in json.load(sys.stdin):
    try:
        layout = Layout.read(case["doc"])
        substitute_parameters(layout, case["parameters"])
        out.append({"ok": attr.asdict(layout)})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`;

const FORMAT = `
import json, sys
args = json.load(sys.stdin)
out = []
for template in args["templates"]:
    try:
        out.append({"ok": template.format(**args["parameters"])})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`;

function parameterLayout(): Doc {
  const doc = baseLayout() as any;
  doc.steps[0].expected_command = ['git', 'clone', '{REPO}', '--branch={BRANCH:>8}', '{{literal}}', '{BRANCH[0]}{BRANCH!s}'];
  doc.steps[1].expected_materials = [['MATCH', '{PATTERN}', 'IN', '{SRC}', 'with', 'products', 'FROM', '{STEP}'], ['DISALLOW', '{{*}}']];
  doc.steps[1].expected_products = [['REQUIRE', '{NAME:{WIDTH}}']];
  doc.inspect[0].run = ['tar', 'xf', '{NAME}.tar'];
  doc.inspect[0].expected_products = [['CREATE', '{NAME}']];
  return doc;
}

const PARAMETERS = { REPO: 'https://example.com/x.git', BRANCH: 'main', PATTERN: '*.c', SRC: 'src', STEP: 'clone', NAME: 'app', WIDTH: '_<6' };

describe('parameter substitution', () => {
  it('substitutes rules, expected commands and inspection commands as the reference does', () => {
    const doc = parameterLayout();
    const [reference] = python<{ ok?: Doc; error?: string }[]>(SUBSTITUTE, [{ doc, parameters: PARAMETERS }]);
    const layout = parseLayout(doc);
    const substituted = substituteParameters(layout, PARAMETERS);
    expect(reference!.error).toBeUndefined();
    expect(stable(layoutToJSON(substituted))).toBe(stable(reference!.ok));
    expect(substituted.steps[0]!.expectedCommand).toEqual(['git', 'clone', 'https://example.com/x.git', '--branch=    main', '{literal}', 'mmain']);
    expect(substituted.steps[1]!.expectedMaterials[0]).toMatchObject({ type: 'MATCH', pattern: '*.c', srcPrefix: 'src', dstType: 'PRODUCTS', step: 'clone' });
    expect(substituted.steps[1]!.expectedProducts[0]).toMatchObject({ type: 'REQUIRE', filename: 'app___' });
    // a new layout; the original is unchanged
    expect(stable(layoutToJSON(layout))).toBe(stable(doc));
    expect(substituted.keys).toBe(layout.keys);
  });

  it('fails where the reference fails, naming the token', () => {
    const cases: { change: (doc: any) => void; parameters: Record<string, unknown>; field: string; message?: string }[] = [
      { change: () => {}, parameters: { ...PARAMETERS, REPO: undefined }, field: 'steps[0].expected_command[2]', message: "no parameter 'REPO' was given" },
      { change: (d) => (d.inspect[0].run[2] = '{NAME}.tar}'), parameters: PARAMETERS, field: 'inspect[0].run[2]', message: "a single '}'" },
      { change: (d) => (d.steps[1].expected_materials[1][1] = '{'), parameters: PARAMETERS, field: 'steps[1].expected_materials[1][1]', message: "a single '{'" },
      { change: (d) => (d.steps[1].expected_products[0][1] = '{}'), parameters: PARAMETERS, field: 'steps[1].expected_products[0][1]', message: 'positional field' },
      { change: (d) => (d.inspect[0].expected_products[0][1] = '{NAME[9]}'), parameters: PARAMETERS, field: 'inspect[0].expected_products[0][1]' },
      { change: () => {}, parameters: { ...PARAMETERS, 'a b': 'x' }, field: 'parameters["a b"]' },
      { change: () => {}, parameters: { ...PARAMETERS, '': 'x' }, field: 'parameters[""]' },
      { change: () => {}, parameters: { ...PARAMETERS, NAME: 5 }, field: 'parameters["NAME"]' },
    ];
    const docs = cases.map(({ change }) => {
      const doc = parameterLayout();
      change(doc);
      return doc;
    });
    const parameters = cases.map((c) => JSON.parse(JSON.stringify(c.parameters)) as Record<string, string>);
    const reference = python<{ ok?: Doc; error?: string }[]>(SUBSTITUTE, docs.map((doc, i) => ({ doc, parameters: parameters[i] })));
    cases.forEach((example, i) => {
      expect(reference[i]!.error, example.field).toBeDefined();
      const error = formatError(() => substituteParameters(parseLayout(docs[i]), parameters[i]!));
      expect(error.code).toBe('FORMAT');
      expect(error.field).toBe(example.field);
      if (example.message !== undefined) expect(error.message).toContain(example.message);
    });
  });

  it('refuses parameter names python only accepts through its `$` (a trailing newline)', () => {
    const [reference] = python<{ ok?: Doc; error?: string }[]>(SUBSTITUTE, [{ doc: parameterLayout(), parameters: { ...PARAMETERS, 'X\n': 'y' } }]);
    expect(reference!.ok).toBeDefined();
    expect(formatError(() => substituteParameters(parseLayout(parameterLayout()), { ...PARAMETERS, 'X\n': 'y' })).field).toBe('parameters["X\\n"]');
  });

  /**
   * Every template through python's `str.format` and through ours (via the public API): the same string, or
   * both fail; we may also refuse the few forms we document as not supported.
   */
  function compareFormat(templates: string[]): { unsupported: string[] } {
    const parameters = { A: 'abc', B: '5', W: '<6', E: '', U: 'üé😀', '1': 'one' };
    const reference = python<({ ok: string } | { error: string })[]>(FORMAT, { templates, parameters });
    const base = parseLayout(baseLayout());
    const unsupported: string[] = [];
    templates.forEach((template, i) => {
      const layout = { ...base, steps: [{ ...base.steps[0]!, expectedCommand: [template] }] };
      let ours: string | InTotoError;
      try {
        ours = substituteParameters(layout, parameters).steps[0]!.expectedCommand[0]!;
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        ours = error;
      }
      const expected = reference[i]!;
      const label = `${JSON.stringify(template)} -> ${JSON.stringify(expected)}`;
      if ('error' in expected) {
        expect(ours, label).toBeInstanceOf(InTotoError);
      } else if (ours instanceof InTotoError) {
        expect(ours.message, label).toContain('is not supported');
        expect(template, label).toMatch(/![ra]|\.[^0-9]|\.$|[\u0661\u0665]|[0-9]{5}/);
        unsupported.push(template);
      } else {
        expect(ours, label).toBe(expected.ok);
      }
    });
    return { unsupported };
  }

  it("reproduces python's str.format on a table of templates", () => {
    const { unsupported } = compareFormat([
      '', 'plain', '{A}', '{A}{B}', 'x{A}y', '{{', '}}', '{{A}}', '{{{A}}}', '{A}}', '{A', 'A}', '{', '}', '{}', '{0}', '{1}', '{\u0661}', '{ A}', '{A }', '{Z}', '{a}',
      '{A!s}', '{A!r}', '{A!a}', '{A!}', '{A!x}', '{A!ss}', '{A!s:>5}', '{A!s!s}', '{A!',
      '{A:}', '{A:5}', '{A:<5}', '{A:>5}', '{A:^6}', '{A:^7}', '{A:*^7}', '{A:05}', '{A:<05}', '{A:0<5}', '{A:00}', '{A:.1}', '{A:.0}', '{A:>6.2}', '{A:.}', '{A:s}', '{A:6s}', '{A:ss}', '{A:d}',
      '{A:=5}', '{A:+}', '{A:-}', '{A: }', '{A:z}', '{A:#}', '{A:,}', '{A:_}', '{A:>1_}', '{A:_<5}', '{A:,<5}', '{A:{<5}', '{A:\u0665}', '{A:99999999999999999999}', '{A:.99999999999}', '{A:70000}',
      '{A:{W}}', '{A:{W}{B}}', '{A:{B:{B}}}', '{A:{W:{E}}}', '{A:x<05}', '{A:<005}', '{A:{W}5}', '{A:{{}}}', '{A:{}}', '{A:{0}}', '{A:{E}}', '{A:{E}>5}', '{A:{Z}}', '{E:>3}', '{U:.2}', '{U:>5}', '{U[2]}', '{U:😀^7}',
      '{A[0]}', '{A[2]}', '{A[3]}', '{A[-1]}', '{A[x]}', '{A[]}', '{A[0]x}', '{A[0][0]}', '{A[0].x}', '{A[}', '{A[:]}', '{A[0}', '{A[\u0661]}', '{A[99999999999999999999]}',
      '{A.}', '{A.upper}', '{A.__class__}', '{A.x[0]}', '{A:{A.x}}', '{A{B}}', '{A:\u0000<5}',
    ]);
    expect(unsupported.sort()).toEqual(['{A!a}', '{A!r}', '{A.__class__}', '{A.upper}', '{A:70000}', '{A:\u0665}', '{A[\u0661]}'].sort());
  });

  it("reproduces python's str.format on random templates", () => {
    const unit = fc.constantFrom('{', '}', '{', '}', 'A', 'B', 'W', 'E', 'Z', '0', '1', '5', '[', ']', '.', '!', 's', 'r', ':', '<', '>', '^', '=', 'x', ',', '_', '#', '+', ' ', 'z');
    const templates = fc.sample(fc.array(unit, { maxLength: 12 }).map((units) => units.join('')), { numRuns: 4000, seed: 7 });
    compareFormat(templates);
  });
});
