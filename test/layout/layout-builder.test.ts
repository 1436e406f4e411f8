/**
 * The layout builder, descriptions and the in-toto-layout CLI against Debian's in-toto 1.3.1: a layout built
 * here is byte-for-byte the one python's own API builds, and the supply chains it describes verify with
 * /usr/bin/in-toto-verify (links recorded by in-toto-run, keys made by in-toto-keygen).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { readEnvelope, serializeEnvelope } from '../../bindings/metadata/envelope.js';
import { InTotoError } from '../../bindings/errors.js';
import { loadPublicKey, type PrivateKey, type PublicKey } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import {
  addPeriod, formatExpires, LayoutBuilder, layoutFromDescription, parsePeriod, rule, shlexSplit, signLayout,
} from '../../bindings/layout/layout-builder.js';
import { layoutToJSON, parseLayout } from '../../bindings/metadata/models.js';
import { verify } from '../../bindings/verify/verify.js';
import { assertReferenceInstalled, makeTempDir, runPython } from '../helpers/reference.js';
import { copyInto, makeKey, referenceRun, referenceVerify, write, type KeyFile } from '../helpers/scenario.js';

const CLI = fileURLToPath(new URL('../../dist/cli/in-toto-layout.js', import.meta.url));

function cli(cwd: string, args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Keys {
  dir: string;
  files: Record<'owner' | 'bob' | 'carol' | 'dave', KeyFile>;
  owner: PrivateKey;
  bob: PublicKey;
  carol: PublicKey;
  dave: PublicKey;
}

let keys: Keys;

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  const dir = makeTempDir('in-toto-builder-keys-');
  const files = {
    owner: makeKey(dir, 'owner', 'ed25519'),
    bob: makeKey(dir, 'bob', 'ed25519'),
    carol: makeKey(dir, 'carol', 'rsa'),
    dave: makeKey(dir, 'dave', 'ecdsa'),
  };
  const pub = (k: KeyFile) => loadPublicKey(readFileSync(`${k.path}.pub`), { keyType: k.type });
  keys = {
    dir,
    files,
    owner: await loadPrivateKey(readFileSync(files.owner.path), { keyType: 'ed25519' }),
    bob: pub(files.bob),
    carol: pub(files.carol),
    dave: pub(files.dave),
  };
});

/** The demo chain (scripts/demo.mjs), built with the builder. */
function demoLayout(expires = '2099-01-01T00:00:00Z') {
  return new LayoutBuilder()
    .readme('in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks')
    .expires(expires)
    .step('write-code', (s) => s.functionaries(keys.bob).command('vi').products(rule.create('foo.py'), 'DISALLOW *'))
    .step('package', (s) =>
      s
        .functionaries(keys.carol)
        .command('tar zcvf foo.tar.gz foo.py')
        .materials(rule.match('foo.py', { from: 'write-code' }), rule.disallow('*'))
        .products('CREATE foo.tar.gz', ['ALLOW', 'foo.py'], 'DISALLOW *'),
    )
    .inspection('untar', (i) =>
      i
        .run('tar', 'xzf', 'foo.tar.gz')
        .materials('MATCH foo.tar.gz WITH PRODUCTS FROM package', 'ALLOW owner.pub', 'ALLOW root.layout', 'DISALLOW *')
        .products(
          'MATCH foo.py WITH PRODUCTS FROM write-code',
          'MATCH foo.tar.gz WITH PRODUCTS FROM package',
          'ALLOW owner.pub',
          'ALLOW root.layout',
          'DISALLOW *',
        ),
    )
    .build();
}

/** Records the demo chain with the reference's tools in a fresh directory; returns a client directory. */
function recordDemo(layoutBytes: Uint8Array, tamper = false): string {
  const work = makeTempDir('in-toto-builder-work-');
  for (const name of ['bob', 'carol'] as const) {
    copyInto(keys.files[name].path, join(work, name));
  }
  write(work, 'foo.py', 'print("hello world")\n');
  referenceRun(work, 'write-code', { ...keys.files.bob, path: join(work, 'bob') }, { products: ['foo.py'] });
  referenceRun(work, 'package', { ...keys.files.carol, path: join(work, 'carol') }, {
    materials: ['foo.py'],
    products: ['foo.tar.gz'],
    command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'],
  });
  const client = makeTempDir('in-toto-builder-client-');
  writeFileSync(join(client, 'root.layout'), layoutBytes);
  copyInto(`${keys.files.owner.path}.pub`, join(client, 'owner.pub'));
  for (const f of [`write-code.${keys.bob.keyid.slice(0, 8)}.link`, `package.${keys.carol.keyid.slice(0, 8)}.link`, 'foo.tar.gz']) {
    copyInto(join(work, f), join(client, f));
  }
  if (tamper) {
    write(work, 'foo.py', 'print("pwned")\n');
    spawnSync('tar', ['zcf', join(client, 'foo.tar.gz'), 'foo.py'], { cwd: work });
  }
  return client;
}

const ownerKeyFile = () => ({ ...keys.files.owner, path: join(keys.dir, 'owner') });

describe('LayoutBuilder', () => {
  it("writes byte-for-byte the layout in-toto 1.3.1's own API builds and signs", async () => {
    const layout = new LayoutBuilder()
      .readme('three functionaries, an inspection')
      .expires('2030-06-01T12:00:00Z')
      .step('write-code', (s) => s.functionaries(keys.bob).command('vi').products('CREATE foo.py', 'CREATE "name with spaces.txt"', 'DISALLOW *'))
      .step('package', (s) =>
        s
          .functionaries(keys.carol, keys.dave)
          .threshold(2)
          .command("tar zcvf foo.tar.gz foo.py 'name with spaces.txt'")
          .materials('MATCH * IN src WITH PRODUCTS IN out FROM write-code', 'DISALLOW *')
          .products('CREATE foo.tar.gz', 'ALLOW foo.py', 'DISALLOW *'),
      )
      .inspection('untar', (i) => i.run('tar xzf foo.tar.gz').materials('MATCH foo.tar.gz WITH PRODUCTS FROM package', 'DISALLOW *'))
      .build();
    const ours = serializeEnvelope(await signLayout(layout, [keys.owner]));

    const dir = makeTempDir('in-toto-builder-python-');
    runPython(
      `
import sys
from securesystemslib import interface
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
d = sys.argv[1]
pub = interface.import_publickeys_from_file([d + "/bob.pub", d + "/carol.pub", d + "/dave.pub"], ["ed25519", "rsa", "ecdsa"])
bob, carol, dave = [pub[k] for k in pub]
layout = Layout()
layout.readme = "three functionaries, an inspection"
layout.expires = "2030-06-01T12:00:00Z"
for key in (bob, carol, dave):
    layout.add_functionary_key(key)
s1 = Step(name="write-code")
s1.pubkeys = [bob["keyid"]]
s1.set_expected_command_from_string("vi")
s1.add_product_rule_from_string("CREATE foo.py")
s1.add_product_rule_from_string('CREATE "name with spaces.txt"')
s1.add_product_rule_from_string("DISALLOW *")
s2 = Step(name="package")
s2.pubkeys = [carol["keyid"], dave["keyid"]]
s2.threshold = 2
s2.set_expected_command_from_string("tar zcvf foo.tar.gz foo.py 'name with spaces.txt'")
s2.add_material_rule_from_string("MATCH * IN src WITH PRODUCTS IN out FROM write-code")
s2.add_material_rule_from_string("DISALLOW *")
s2.add_product_rule_from_string("CREATE foo.tar.gz")
s2.add_product_rule_from_string("ALLOW foo.py")
s2.add_product_rule_from_string("DISALLOW *")
i1 = Inspection(name="untar")
i1.set_run_from_string("tar xzf foo.tar.gz")
i1.add_material_rule_from_string("MATCH foo.tar.gz WITH PRODUCTS FROM package")
i1.add_material_rule_from_string("DISALLOW *")
layout.steps = [s1, s2]
layout.inspect = [i1]
layout.validate()
metablock = Metablock(signed=layout)
metablock.sign(interface.import_ed25519_privatekey_from_file(d + "/owner"))
metablock.dump(sys.argv[2])
`,
      undefined,
      [keys.dir, join(dir, 'python.layout')],
    );
    const theirs = readFileSync(join(dir, 'python.layout'));
    expect(new TextDecoder().decode(ours)).toBe(new TextDecoder().decode(theirs));
  });

  it('builds the demo chain, which the reference in-toto-verify passes, and refuses when tampered', async () => {
    const bytes = serializeEnvelope(await signLayout(demoLayout(), [keys.owner]));
    const good = recordDemo(bytes);
    expect(referenceVerify(good, 'root.layout', [ownerKeyFile()]).status).toBe(0);
    const bad = recordDemo(bytes, true);
    const result = referenceVerify(bad, 'root.layout', [ownerKeyFile()]);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/DISALLOW|RuleVerificationError/);
  });

  it('defaults as python Layout(), Step() and Inspection() do', () => {
    const now = new Date('2026-01-31T10:20:30Z');
    const json = layoutToJSON(new LayoutBuilder({ now }).step('a').inspection('b').build());
    expect(json).toEqual({
      _type: 'layout',
      expires: '2026-02-28T10:20:30Z',
      inspect: [{ _type: 'inspection', expected_materials: [], expected_products: [], name: 'b', run: [] }],
      keys: {},
      readme: '',
      steps: [{ _type: 'step', expected_command: [], expected_materials: [], expected_products: [], name: 'a', pubkeys: [], threshold: 1 }],
    });
  });

  it('refuses what the reference refuses, naming the place', () => {
    expect(() => new LayoutBuilder().step('a').inspection('a')).toThrow(/already used/);
    expect(() => new LayoutBuilder().step('a', (s) => s.products('CREATE'))).toThrow(/step 'a' expected_products\[0\]/);
    expect(() => new LayoutBuilder().step('a', (s) => s.materials('MATCH foo WITH THINGS FROM b'))).toThrow(/WITH MATERIALS or WITH PRODUCTS/);
    expect(() => new LayoutBuilder().step('a', (s) => s.threshold(0))).toThrow(RangeError);
    expect(() => new LayoutBuilder().expires('next week')).toThrow(InTotoError);
    expect(() => rule.match('x', { from: 'a', with: 'artifacts' as 'products' })).toThrow(/WITH MATERIALS or WITH PRODUCTS/);
  });

  it('edits an existing layout: from(), updateStep(), removeKey()', () => {
    const layout = demoLayout();
    const changed = LayoutBuilder.from(layout)
      .updateStep('package', (s) => s.functionaries(keys.dave).threshold(2))
      .removeKey(keys.bob.keyid)
      .build();
    expect(changed.steps[1]!.pubkeys).toEqual([keys.carol.keyid, keys.dave.keyid]);
    expect(changed.steps[1]!.threshold).toBe(2);
    expect(changed.steps[0]!.pubkeys).toEqual([]);
    expect(Object.keys(changed.keys).sort()).toEqual([keys.carol.keyid, keys.dave.keyid].sort());
    // Everything else is as it was.
    expect(layoutToJSON(LayoutBuilder.from(layout).build())).toEqual(layoutToJSON(layout));
  });

  it("rule.match writes every MATCH form as the reference's grammar has it", () => {
    expect(rule.match('*', { from: 'a' }).tokens).toEqual(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'a']);
    expect(rule.match('*', { from: 'a', with: 'materials', in: 'src', destinationIn: 'dst' }).tokens).toEqual([
      'MATCH', '*', 'IN', 'src', 'WITH', 'MATERIALS', 'IN', 'dst', 'FROM', 'a',
    ]);
    expect(rule.require('f').tokens).toEqual(['REQUIRE', 'f']);
  });
});

describe('shlexSplit and periods, against python', () => {
  it('splits rule strings and commands as shlex.split does', () => {
    const inputs = [
      'CREATE foo.py',
      "MATCH 'a b' WITH PRODUCTS FROM x",
      'ALLOW "quoted \\" and \\\\ backslash" tail',
      'ALLOW a\\ b',
      '  lots   of\tspace  ',
      "CREATE ''",
      'CREATE "" x',
      'ALLOW it"s"joined\'and\'this',
      'DISALLOW "\\n stays"',
      'ünïcode ✓ tokens',
    ];
    const theirs = JSON.parse(runPython('import json, shlex, sys; print(json.dumps([shlex.split(s) for s in json.load(sys.stdin)]))', JSON.stringify(inputs)).toString());
    expect(inputs.map((s) => shlexSplit(s))).toEqual(theirs);
    expect(() => shlexSplit("CREATE 'open")).toThrow(/no closing quotation/);
    expect(() => shlexSplit('CREATE x\\')).toThrow(/escaped character/);
  });

  it('adds months, years and days as dateutil relativedelta does', () => {
    const cases: [string, { years?: number; months?: number; days?: number }][] = [
      ['2026-01-31T10:00:00Z', { months: 1 }],
      ['2024-01-31T10:00:00Z', { months: 1 }],
      ['2024-02-29T23:59:59Z', { years: 1 }],
      ['2026-11-30T00:00:00Z', { months: 3, days: 1 }],
      ['2026-12-31T05:06:07Z', { years: 2, months: 2, days: 30 }],
      ['2026-03-31T00:00:00Z', { days: 365 }],
    ];
    const theirs = JSON.parse(
      runPython(
        `
import json, sys
from datetime import datetime
from dateutil.relativedelta import relativedelta
out = []
for base, p in json.load(sys.stdin):
    d = datetime.strptime(base, "%Y-%m-%dT%H:%M:%SZ") + relativedelta(days=p.get("days", 0), months=p.get("months", 0), years=p.get("years", 0))
    out.append(d.strftime("%Y-%m-%dT%H:%M:%SZ"))
print(json.dumps(out))
`,
        JSON.stringify(cases),
      ).toString(),
    );
    expect(cases.map(([base, p]) => formatExpires(addPeriod(new Date(base), p)))).toEqual(theirs);
  });

  it('reads periods', () => {
    expect(parsePeriod('6m')).toEqual({ months: 6 });
    expect(parsePeriod('1y 6m 2w 3d 4h')).toEqual({ years: 1, months: 6, weeks: 2, days: 3, hours: 4 });
    expect(parsePeriod('3 months')).toEqual({ months: 3 });
    expect(() => parsePeriod('soon')).toThrow(/30d, 6m, 1y/);
    expect(() => parsePeriod('6m later')).toThrow(InTotoError);
  });
});

describe('layoutFromDescription', () => {
  const resolveKey = async (ref: { path: string }) => loadPublicKey(readFileSync(join(keys.dir, ref.path)));

  it('describes the demo chain in plain terms and gives the same layout as the builder', async () => {
    const { layout, keyNames } = await layoutFromDescription(
      {
        readme: 'in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks',
        expires: '2099-01-01T00:00:00Z',
        keys: { bob: 'bob.pub', carol: { path: 'carol.pub', type: 'rsa' } },
        steps: [
          { name: 'write-code', functionaries: ['bob'], command: 'vi', products: ['CREATE foo.py', 'DISALLOW *'] },
          {
            name: 'package',
            functionaries: ['carol'],
            command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'],
            materials: ['MATCH foo.py WITH PRODUCTS FROM write-code', ['DISALLOW', '*']],
            products: ['CREATE foo.tar.gz', 'ALLOW foo.py', 'DISALLOW *'],
          },
        ],
        inspect: [
          {
            name: 'untar',
            run: 'tar xzf foo.tar.gz',
            materials: ['MATCH foo.tar.gz WITH PRODUCTS FROM package', 'ALLOW owner.pub', 'ALLOW root.layout', 'DISALLOW *'],
            products: ['MATCH foo.py WITH PRODUCTS FROM write-code', 'MATCH foo.tar.gz WITH PRODUCTS FROM package', 'ALLOW owner.pub', 'ALLOW root.layout', 'DISALLOW *'],
          },
        ],
      },
      { resolveKey },
    );
    expect(layoutToJSON(layout)).toEqual(layoutToJSON(demoLayout()));
    expect(keyNames.get(keys.bob.keyid)).toBe('bob');
    expect(keyNames.get(keys.carol.keyid)).toBe('carol');
  });

  it("accepts a layout's own signed object as a description", async () => {
    const json = layoutToJSON(demoLayout());
    const { layout } = await layoutFromDescription(JSON.parse(JSON.stringify(json)));
    expect(layoutToJSON(layout)).toEqual(json);
  });

  it('names the field of every mistake', async () => {
    const fails = async (description: unknown, pattern: RegExp) => {
      const error = await layoutFromDescription(description, { resolveKey }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InTotoError);
      expect((error as Error).message).toMatch(pattern);
    };
    await fails({ steps: [{ name: 'a', prodcuts: [] }] }, /steps\[0\]\.prodcuts: unknown field/);
    await fails({ keys: { bob: 'bob.pub' }, steps: [{ name: 'a', functionaries: ['bobb'] }] }, /steps\[0\]\.functionaries\[0\]: no key named 'bobb' \(keys: bob\)/);
    await fails({ steps: [{ name: 'a', materials: ['MATCH x FROM y'] }] }, /invalid artifact rule/);
    await fails({ steps: [{ name: 'a', materials: [{ CREATE: 'x' }] }] }, /steps\[0\]\.materials\[0\]: a rule is a string/);
    await fails({ steps: [{ name: 'a', threshold: 0 }] }, /threshold: must be a positive integer/);
    await fails({ expires: '2026-01-01T00:00:00Z', expires_in: '1y' }, /either expires or expires_in/);
    await fails({ keys: { x: 'missing.pub' } }, /keys\.x/);
    await fails({ steps: [{ name: 'a', command: 'vi', expected_command: ['vi'] }] }, /either command or expected_command/);
    await fails('a string', /must be an object/);
  });
});

describe('in-toto-layout CLI', () => {
  const DEMO_YAML = `# the in-toto demo chain
readme: "in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks"
expires: 2099-01-01T00:00:00Z
keys:
  bob: keys/bob.pub
  carol: { path: keys/carol.pub, type: rsa }
steps:
  - name: write-code
    functionaries: [bob]
    command: vi
    products: [CREATE foo.py, DISALLOW *]
  - name: package
    functionaries: [carol]
    command: tar zcvf foo.tar.gz foo.py
    materials:
      - MATCH foo.py WITH PRODUCTS FROM write-code
      - DISALLOW *
    products: [CREATE foo.tar.gz, ALLOW foo.py, DISALLOW *]
inspect:
  - name: untar
    run: tar xzf foo.tar.gz
    materials:
      - MATCH foo.tar.gz WITH PRODUCTS FROM package
      - ALLOW owner.pub
      - ALLOW root.layout
      - DISALLOW *
    products:
      - MATCH foo.py WITH PRODUCTS FROM write-code
      - MATCH foo.tar.gz WITH PRODUCTS FROM package
      - ALLOW owner.pub
      - ALLOW root.layout
      - DISALLOW *
`;

  function project(): string {
    const dir = makeTempDir('in-toto-layout-cli-');
    for (const name of ['owner', 'bob', 'carol', 'dave']) {
      copyInto(join(keys.dir, name), join(dir, 'keys', name));
      copyInto(join(keys.dir, `${name}.pub`), join(dir, 'keys', `${name}.pub`));
    }
    write(dir, 'demo.yaml', DEMO_YAML);
    return dir;
  }

  it('create: a YAML description becomes the layout the builder makes, signed, and the reference verifies it', async () => {
    const dir = project();
    const result = cli(dir, ['create', 'demo.yaml', '-o', 'root.layout', '-k', 'keys/owner', '-t', 'ed25519']);
    expect(result.stderr).toContain('wrote root.layout: 2 steps, 1 inspection, 2 keys');
    expect(result.status).toBe(0);
    const written = readFileSync(join(dir, 'root.layout'));
    expect(new TextDecoder().decode(written)).toBe(new TextDecoder().decode(serializeEnvelope(await signLayout(demoLayout(), [keys.owner]))));
    const client = recordDemo(written);
    expect(referenceVerify(client, 'root.layout', [ownerKeyFile()]).status).toBe(0);
  });

  it('create: JSON descriptions too, and DSSE envelopes our verifier reads', async () => {
    const dir = project();
    write(dir, 'demo.json', JSON.stringify({
      expires: '2099-01-01T00:00:00Z',
      keys: { bob: 'keys/bob.pub' },
      steps: [{ name: 'write-code', functionaries: ['bob'], products: ['CREATE foo.py', 'DISALLOW *'] }],
    }));
    expect(cli(dir, ['create', 'demo.json', '-o', 'plain.layout']).status).toBe(0);
    const plain = readEnvelope(readFileSync(join(dir, 'plain.layout')));
    expect(plain.signatures).toEqual([]);
    expect(parseLayout(plain.signed).steps[0]!.pubkeys).toEqual([keys.bob.keyid]);
    expect(cli(dir, ['create', 'demo.json', '-o', 'dsse.layout', '--dsse', '-k', 'keys/owner']).status).toBe(0);
    const dsse = readEnvelope(readFileSync(join(dir, 'dsse.layout')));
    expect(dsse.kind).toBe('dsse');
    const verdict = await verify({ layout: dsse, layoutKeys: [keys.owner.publicKey], links: new Map() });
    // Signed and readable: what fails is only the missing link.
    expect(verdict.failures.map((f) => f.code)).toEqual(['LINK_MISSING']);
  });

  it('create: reports lint findings, and refuses bad descriptions with the field (exit 1) or bad arguments (exit 2)', () => {
    const dir = project();
    write(dir, 'loose.yaml', 'expires: 2099-01-01T00:00:00Z\nsteps:\n  - name: build\n    products: [CREATE app]\n');
    // Lint errors (a threshold no functionary can meet) stop create: nothing is written, exit 1...
    const loose = cli(dir, ['create', 'loose.yaml', '-o', 'loose.layout']);
    expect(loose.status).toBe(1);
    expect(loose.stderr).toContain('PRODUCTS_NOT_CLOSED');
    expect(loose.stderr).toContain('THRESHOLD_UNREACHABLE');
    expect(loose.stderr).toContain('nothing written: fix the description (in-toto-layout lint loose.yaml explains each finding), or write it anyway with --force');
    expect(existsSync(join(dir, 'loose.layout'))).toBe(false);
    // ...unless --force, which writes it and still shows the findings.
    const forced = cli(dir, ['create', 'loose.yaml', '-o', 'loose.layout', '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stderr).toContain('THRESHOLD_UNREACHABLE');
    expect(existsSync(join(dir, 'loose.layout'))).toBe(true);
    // Warnings alone do not stop it: the demo without its inspection (PRODUCT_UNCHECKED) is written.
    write(dir, 'warn.yaml', DEMO_YAML.slice(0, DEMO_YAML.indexOf('inspect:')));
    const warned = cli(dir, ['create', 'warn.yaml', '-o', 'warn.layout']);
    expect(warned.status).toBe(0);
    expect(warned.stderr).toContain('PRODUCT_UNCHECKED');
    expect(existsSync(join(dir, 'warn.layout'))).toBe(true);
    write(dir, 'bad.yaml', 'steps:\n  - name: build\n    functionaries: [nobody]\n');
    const bad = cli(dir, ['create', 'bad.yaml']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("steps[0].functionaries[0]: no key named 'nobody'");
    write(dir, 'dup.yaml', 'readme: a\nreadme: b\n');
    expect(cli(dir, ['create', 'dup.yaml']).stderr).toMatch(/unique|duplicate/i);
    expect(cli(dir, ['create']).status).toBe(2);
    expect(cli(dir, ['frobnicate']).status).toBe(2);
    expect(cli(dir, ['create', 'demo.yaml', '--bogus']).status).toBe(2);
    expect(cli(dir, ['--help']).stdout).toContain('set-expiry');
  });

  it('add-key, set-expiry and sign: change a layout, re-sign it, and the reference verifies the result', () => {
    const dir = project();
    // A layout whose package step has no functionary yet, and which has expired.
    write(dir, 'start.yaml', DEMO_YAML.replace('expires: 2099-01-01T00:00:00Z', 'expires: 2020-01-01T00:00:00Z').replace('    functionaries: [carol]\n', ''));
    // Expired and without a functionary: lint errors, so create needs --force for this half-made layout.
    expect(cli(dir, ['create', 'start.yaml', '-o', 'root.layout', '-k', 'keys/owner']).status).toBe(1);
    expect(cli(dir, ['create', 'start.yaml', '-o', 'root.layout', '-k', 'keys/owner', '--force']).status).toBe(0);

    const added = cli(dir, ['add-key', 'root.layout', 'keys/carol.pub', '--step', 'package']);
    expect(added.status).toBe(0);
    expect(added.stderr).toContain(`added key ${keys.carol.keyid}`);
    expect(added.stderr).toContain('signature no longer holds and was removed');
    let layout = parseLayout(readEnvelope(readFileSync(join(dir, 'root.layout'))).signed);
    expect(layout.steps[1]!.pubkeys).toEqual([keys.carol.keyid]);

    const expiry = cli(dir, ['set-expiry', 'root.layout', '--in', '1y']);
    expect(expiry.stderr + String(expiry.status)).toContain('expiry:');
    expect(expiry.status).toBe(0);
    layout = parseLayout(readEnvelope(readFileSync(join(dir, 'root.layout'))).signed);
    expect(Date.parse(layout.expires)).toBeGreaterThan(Date.now() + 360 * 86400e3);
    expect(readEnvelope(readFileSync(join(dir, 'root.layout'))).signatures).toEqual([]);

    expect(cli(dir, ['add-key', 'root.layout', 'keys/nothere.pub']).status).toBe(1);
    expect(cli(dir, ['add-key', 'root.layout', 'keys/dave.pub', '--step', 'nostep']).stderr).toContain("no step 'nostep'");
    expect(cli(dir, ['set-expiry', 'root.layout']).status).toBe(2);
    expect(cli(dir, ['sign', 'root.layout']).status).toBe(2);

    const signed = cli(dir, ['sign', 'root.layout', '-k', 'keys/owner']);
    expect(signed.status).toBe(0);
    const client = recordDemo(readFileSync(join(dir, 'root.layout')));
    expect(referenceVerify(client, 'root.layout', [ownerKeyFile()]).status).toBe(0);

    // set-expiry with -k signs again at once; --at takes a date.
    expect(cli(dir, ['set-expiry', 'root.layout', '--at', '2098-02-03', '-k', 'keys/owner', '-o', 'again.layout']).status).toBe(0);
    const again = readEnvelope(readFileSync(join(dir, 'again.layout')));
    expect(parseLayout(again.signed).expires).toBe('2098-02-03T00:00:00Z');
    expect(again.signatures.map((s) => s.keyid)).toEqual([keys.owner.keyid]);
  });

  it('takes unique prefixes of each command\'s options, as argparse and our other tools do; ambiguous ones exit 2 naming the candidates', () => {
    const dir = project();
    expect(cli(dir, ['create', 'demo.yaml', '--out', 'root.layout']).status).toBe(0);
    // --key is exact beside --key-type; --key-t, --o and --pass are unique prefixes.
    const signed = cli(dir, ['sign', 'root.layout', '--key', 'keys/owner', '--key-t', 'ed25519', '--o', 'signed.layout']);
    expect(signed.status, signed.stderr).toBe(0);
    expect(readEnvelope(readFileSync(join(dir, 'signed.layout'))).signatures.map((s) => s.keyid)).toEqual([keys.owner.keyid]);
    write(dir, 'password', '\n');
    expect(cli(dir, ['sign', 'root.layout', '-k', 'keys/owner', '--pass', 'password', '--out', 'again.layout']).status).toBe(0);
    const expiry = cli(dir, ['set-expiry', 'root.layout', '--i', '1y', '--outp', 'later.layout']);
    expect(expiry.status, expiry.stderr).toBe(0);
    expect(cli(dir, ['graph', 'root.layout', '--key-n', `${keys.bob.keyid.slice(0, 8)}=bob`, '--ti', 'demo']).stdout).toContain('bob');
    expect(cli(dir, ['sign', '--he']).stdout).toContain('--password-file');

    const ambiguous = cli(dir, ['sign', 'root.layout', '--k', 'keys/owner']);
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stderr).toContain('ambiguous option: --k could match --key, --key-type');
    // Required options are checked as argparse does, whichever prefix named the others.
    const missing = cli(dir, ['sign', 'root.layout', '--key-t', 'ed25519']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('the following arguments are required: -k/--key');
  });
});
