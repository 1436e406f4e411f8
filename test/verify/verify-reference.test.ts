/**
 * Same verdict as the reference: supply chains recorded with Debian's in-toto 1.3.1 tools (keygen, run,
 * python's Layout/Metablock), then judged by the reference's in-toto-verify and by our verify(), each in its
 * own copy of the directory. Every scenario states the verdict it must get, so the two cannot agree on a
 * wrong answer, and every failing scenario names the failure code we must report.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import type { ErrorCode } from '../../bindings/errors.js';
import { nodeInspectionRunner } from '../../bindings/record/inspect-node.js';
import { loadPublicKey } from '../../bindings/keys/keys.js';
import { verify, type Verdict } from '../../bindings/verify/verify.js';
import { demoInspection, demoLayoutSpec, sublayoutSpecs } from '../helpers/chains.mjs';
import { assertReferenceInstalled, makeTempDir } from '../helpers/reference.js';
import {
  copyInto, makeKeySet, referenceRun, referenceVerify, write, writeLayout,
  type KeyFile, type LayoutSpec,
} from '../helpers/scenario.js';

type Keys = ReturnType<typeof makeKeySet>;

interface Built {
  /** Layout file, relative to the scenario directory. */
  layout?: string;
  /** Keys the verifier trusts for the layout (default: the owner). */
  layoutKeys?: KeyFile[];
  linkDir?: string;
}

interface Scenario {
  name: string;
  expect: 'pass' | 'fail';
  /** A failure code our verdict must contain when the scenario fails. */
  code?: ErrorCode;
  build(dir: string, keys: Keys): Built | void;
}

const DEMO_INSPECTION = demoInspection();

/** The in-toto demo: bob writes foo.py, carol packages it, the client unpacks and compares. */
function demoLayout(keys: Keys, extra: Partial<LayoutSpec> = {}): LayoutSpec {
  return demoLayoutSpec(keys, extra);
}

/** Records the demo chain in `dir` (functionaries work in subdirectories, the client gets the results). */
function recordDemo(dir: string, keys: Keys, tamper: { code?: string; product?: boolean } = {}): void {
  const work = join(dir, 'work');
  write(work, 'foo.py', 'print("hello")\n');
  referenceRun(work, 'write-code', keys.bob, { products: ['foo.py'] });
  if (tamper.code) write(work, 'foo.py', tamper.code);
  referenceRun(work, 'package', keys.carol, { materials: ['foo.py'], products: ['foo.tar.gz'], command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'] });
  for (const file of readdirSync(work)) if (file.endsWith('.link')) copyInto(join(work, file), join(dir, file));
  copyInto(join(work, 'foo.tar.gz'), join(dir, 'foo.tar.gz'));
  if (tamper.product) {
    write(work, 'foo.py', 'print("evil")\n');
    execTar(work);
    copyInto(join(work, 'foo.tar.gz'), join(dir, 'foo.tar.gz'));
  }
  rmSync(work, { recursive: true });
}

function execTar(cwd: string): void {
  // A different archive with the same name, as an attacker on the mirror would serve it.
  execFileSync('tar', ['zcf', 'foo.tar.gz', 'foo.py'], { cwd });
}

/** A one-step layout around a set of rules, for the rule scenarios. */
function ruleScenario(
  name: string,
  expectVerdict: 'pass' | 'fail',
  rules: { materials?: string[][]; products?: string[][] },
  before: Record<string, string>,
  after: Record<string, string | null>,
  code?: ErrorCode,
): Scenario {
  return {
    name,
    expect: expectVerdict,
    code,
    build(dir, keys) {
      const work = join(dir, 'work');
      for (const [file, content] of Object.entries(before)) write(work, file, content);
      writeLayout(join(dir, 'root.layout'), {
        steps: [{ name: 'step', pubkeys: [keys.alice], expected_materials: rules.materials ?? [], expected_products: rules.products ?? [] }],
        signers: [keys.owner],
      });
      const paths = ['.'];
      referenceRun(work, 'step', keys.alice, {
        materials: paths,
        products: paths,
        command: ['sh', '-c', Object.entries(after).map(([f, c]) => (c === null ? `rm -f '${f}'` : `mkdir -p "$(dirname '${f}')" && printf '%s' '${c}' > '${f}'`)).join(' && ') || 'true'],
      });
      for (const file of readdirSync(work)) if (file.endsWith('.link')) copyInto(join(work, file), join(dir, file));
      rmSync(work, { recursive: true });
    },
  };
}

/** Replaces text inside the `signed` part of a file without re-signing it. */
function tamperFile(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
  writeFileSync(file, text.replace(from, to));
}

function linkOf(dir: string, step: string): string {
  const file = readdirSync(dir).find((f) => f.startsWith(`${step}.`) && f.endsWith('.link'));
  if (!file) throw new Error(`no link for ${step} in ${dir}`);
  return join(dir, file);
}

const scenarios: Scenario[] = [
  { name: 'the demo chain', expect: 'pass', build: (dir, keys) => (writeLayout(join(dir, 'root.layout'), demoLayout(keys)), recordDemo(dir, keys)) },
  {
    name: 'demo: foo.py changed between write-code and package',
    expect: 'fail',
    code: 'RULE_DISALLOW',
    build: (dir, keys) => (writeLayout(join(dir, 'root.layout'), demoLayout(keys)), recordDemo(dir, keys, { code: 'print("evil")\n' })),
  },
  {
    name: 'demo: the final product replaced after package',
    expect: 'fail',
    code: 'RULE_DISALLOW',
    build: (dir, keys) => (writeLayout(join(dir, 'root.layout'), demoLayout(keys)), recordDemo(dir, keys, { product: true })),
  },
  {
    name: 'demo: a missing link',
    expect: 'fail',
    code: 'LINK_MISSING',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys));
      recordDemo(dir, keys);
      unlinkSync(linkOf(dir, 'package'));
    },
  },
  {
    name: 'demo: package recorded by an unauthorized key',
    expect: 'fail',
    code: 'LINK_MISSING',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys));
      const work = join(dir, 'work');
      write(work, 'foo.py', 'print("hello")\n');
      referenceRun(work, 'write-code', keys.bob, { products: ['foo.py'] });
      referenceRun(work, 'package', keys.dave, { materials: ['foo.py'], products: ['foo.tar.gz'], command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'] });
      for (const f of readdirSync(work)) if (f.endsWith('.link') || f === 'foo.tar.gz') copyInto(join(work, f), join(dir, f));
      rmSync(work, { recursive: true });
    },
  },
  {
    name: 'demo: a link changed after signing',
    expect: 'fail',
    code: 'THRESHOLD',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys));
      recordDemo(dir, keys);
      tamperFile(linkOf(dir, 'write-code'), '"sha256": "', '"sha256": "0');
    },
  },
  {
    name: 'demo: the layout changed after signing',
    expect: 'fail',
    code: 'SIGNATURE',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys));
      recordDemo(dir, keys);
      tamperFile(join(dir, 'root.layout'), '"expires": "2099-01-01T00:00:00Z"', '"expires": "2099-01-02T00:00:00Z"');
    },
  },
  {
    name: 'demo: verified with a key that did not sign the layout',
    expect: 'fail',
    code: 'SIGNATURE',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys));
      recordDemo(dir, keys);
      return { layoutKeys: [keys.erin] };
    },
  },
  {
    name: 'demo: an expired layout',
    expect: 'fail',
    code: 'LAYOUT_EXPIRED',
    build: (dir, keys) => (writeLayout(join(dir, 'root.layout'), demoLayout(keys, { expires: '2020-01-01T00:00:00Z' })), recordDemo(dir, keys)),
  },
  {
    name: 'demo: layout signed by two owners, both required',
    expect: 'pass',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys, { signers: [keys.owner, keys.carol] }));
      recordDemo(dir, keys);
      return { layoutKeys: [keys.owner, keys.carol] };
    },
  },
  {
    name: 'demo: links in a separate directory (--link-dir)',
    expect: 'pass',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys));
      recordDemo(dir, keys);
      for (const f of readdirSync(dir)) if (f.endsWith('.link')) (copyInto(join(dir, f), join(dir, 'links', f)), unlinkSync(join(dir, f)));
      return { linkDir: 'links' };
    },
  },
  {
    name: 'demo: the inspection command fails',
    expect: 'fail',
    code: 'INSPECTION',
    build: (dir, keys) => {
      writeLayout(join(dir, 'root.layout'), demoLayout(keys, { inspect: [{ ...DEMO_INSPECTION, run: ['tar', 'xzf', 'missing.tar.gz'] }] }));
      recordDemo(dir, keys);
    },
  },
  {
    name: 'threshold 2 met by two functionaries',
    expect: 'pass',
    build: (dir, keys) => {
      write(dir, 'a.txt', 'a');
      writeLayout(join(dir, 'root.layout'), { steps: [{ name: 'review', pubkeys: [keys.alice, keys.bob], threshold: 2, expected_products: [['ALLOW', 'a.txt']] }], signers: [keys.owner] });
      referenceRun(dir, 'review', keys.alice, { products: ['a.txt'] });
      referenceRun(dir, 'review', keys.bob, { products: ['a.txt'] });
    },
  },
  {
    name: 'threshold 2 with one link',
    expect: 'fail',
    code: 'LINK_MISSING',
    build: (dir, keys) => {
      write(dir, 'a.txt', 'a');
      writeLayout(join(dir, 'root.layout'), { steps: [{ name: 'review', pubkeys: [keys.alice, keys.bob], threshold: 2 }], signers: [keys.owner] });
      referenceRun(dir, 'review', keys.alice, { products: ['a.txt'] });
    },
  },
  {
    name: 'threshold 2 with links that disagree',
    expect: 'fail',
    code: 'LINKS_DISAGREE',
    build: (dir, keys) => {
      write(dir, 'a.txt', 'a');
      writeLayout(join(dir, 'root.layout'), { steps: [{ name: 'review', pubkeys: [keys.alice, keys.bob], threshold: 2 }], signers: [keys.owner] });
      referenceRun(dir, 'review', keys.alice, { products: ['a.txt'] });
      write(dir, 'a.txt', 'b');
      referenceRun(dir, 'review', keys.bob, { products: ['a.txt'] });
    },
  },
  ruleScenario('CREATE of a new file', 'pass', { products: [['CREATE', 'new.txt'], ['ALLOW', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, { 'new.txt': 'n' }),
  ruleScenario('CREATE of a file that existed', 'fail', { products: [['CREATE', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, {}, 'RULE_DISALLOW'),
  ruleScenario('DELETE of a removed file', 'pass', { materials: [['DELETE', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, { 'old.txt': null }),
  ruleScenario('DELETE of a file still there', 'fail', { materials: [['DELETE', 'old.txt'], ['DISALLOW', '*']] }, { 'old.txt': 'o' }, {}, 'RULE_DISALLOW'),
  ruleScenario('MODIFY of a changed file', 'pass', { products: [['MODIFY', 'f.txt'], ['DISALLOW', '*']] }, { 'f.txt': 'a' }, { 'f.txt': 'b' }),
  ruleScenario('MODIFY of an unchanged file', 'fail', { products: [['MODIFY', 'f.txt'], ['DISALLOW', '*']] }, { 'f.txt': 'a' }, {}, 'RULE_DISALLOW'),
  ruleScenario('REQUIRE of a present file', 'pass', { products: [['REQUIRE', 'f.txt']] }, { 'f.txt': 'a' }, {}),
  ruleScenario('REQUIRE of an absent file', 'fail', { products: [['REQUIRE', 'g.txt']] }, { 'f.txt': 'a' }, {}, 'RULE_REQUIRE'),
  ruleScenario('REQUIRE after an ALLOW consumed the file', 'fail', { products: [['ALLOW', 'f.txt'], ['REQUIRE', 'f.txt']] }, { 'f.txt': 'a' }, {}, 'RULE_REQUIRE'),
  ruleScenario('DISALLOW of a leftover file', 'fail', { products: [['ALLOW', '*.txt'], ['DISALLOW', '*']] }, { 'f.txt': 'a', 'g.bin': 'b' }, {}, 'RULE_DISALLOW'),
  ruleScenario('lower-case keywords', 'pass', { products: [['allow', '*.txt'], ['disallow', '*']] }, { 'f.txt': 'a' }, {}),
  ruleScenario('* matches across directories', 'pass', { products: [['ALLOW', 'src/*.c'], ['DISALLOW', '*']] }, { 'src/a/b/c.c': 'c', 'src/d.c': 'd' }, {}),
  ruleScenario('? and [!x] globs', 'fail', { products: [['ALLOW', 'f?.[!b]*'], ['DISALLOW', '*']] }, { 'f1.a': 'a', 'f2.b': 'b' }, {}, 'RULE_DISALLOW'),
  ruleScenario('unicode file names', 'pass', { products: [['CREATE', 'naïve-日本.txt'], ['ALLOW', 'ß/*'], ['DISALLOW', '*']] }, { 'ß/ü.txt': 'u' }, { 'naïve-日本.txt': 'n' }),
  {
    name: 'MATCH with IN prefixes across nested directories',
    expect: 'pass',
    build(dir, keys) {
      writeLayout(join(dir, 'root.layout'), {
        steps: [
          { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'dist/*'], ['DISALLOW', '*']] },
          { name: 'ship', pubkeys: [keys.bob], expected_materials: [['MATCH', '*', 'IN', 'pkg', 'WITH', 'PRODUCTS', 'IN', 'dist', 'FROM', 'build'], ['DISALLOW', '*']] },
        ],
        signers: [keys.owner],
      });
      write(dir, 'dist/a/b.js', 'b');
      write(dir, 'dist/c.js', 'c');
      referenceRun(dir, 'build', keys.alice, { products: ['dist'] });
      write(dir, 'pkg/a/b.js', 'b');
      write(dir, 'pkg/c.js', 'c');
      referenceRun(dir, 'ship', keys.bob, { materials: ['pkg'] });
    },
  },
  {
    name: 'MATCH with IN prefixes and one changed file',
    expect: 'fail',
    code: 'RULE_DISALLOW',
    build(dir, keys) {
      writeLayout(join(dir, 'root.layout'), {
        steps: [
          { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'dist/*'], ['DISALLOW', '*']] },
          { name: 'ship', pubkeys: [keys.bob], expected_materials: [['MATCH', '*', 'IN', 'pkg', 'WITH', 'PRODUCTS', 'IN', 'dist', 'FROM', 'build'], ['DISALLOW', '*']] },
        ],
        signers: [keys.owner],
      });
      write(dir, 'dist/c.js', 'c');
      referenceRun(dir, 'build', keys.alice, { products: ['dist'] });
      write(dir, 'pkg/c.js', 'changed');
      referenceRun(dir, 'ship', keys.bob, { materials: ['pkg'] });
    },
  },
  {
    name: 'MATCH naming a step with different case consumes nothing',
    expect: 'fail',
    code: 'RULE_DISALLOW',
    build(dir, keys) {
      writeLayout(join(dir, 'root.layout'), {
        steps: [
          { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'a.txt']] },
          { name: 'ship', pubkeys: [keys.bob], expected_materials: [['MATCH', 'a.txt', 'WITH', 'PRODUCTS', 'FROM', 'Build'], ['DISALLOW', '*']] },
        ],
        signers: [keys.owner],
      });
      write(dir, 'a.txt', 'a');
      referenceRun(dir, 'build', keys.alice, { products: ['a.txt'] });
      referenceRun(dir, 'ship', keys.bob, { materials: ['a.txt'] });
    },
  },
  {
    name: 'RSA- and ECDSA-signed layout and links',
    expect: 'pass',
    build(dir, keys) {
      writeLayout(join(dir, 'root.layout'), {
        steps: [
          { name: 'build', pubkeys: [keys.carol], expected_products: [['CREATE', 'a.txt'], ['DISALLOW', '*']] },
          { name: 'test', pubkeys: [keys.dave], expected_materials: [['MATCH', 'a.txt', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
        ],
        signers: [keys.carol, keys.dave],
      });
      write(dir, 'a.txt', 'a');
      referenceRun(dir, 'build', keys.carol, { products: ['a.txt'] });
      referenceRun(dir, 'test', keys.dave, { materials: ['a.txt'] });
      return { layoutKeys: [keys.carol, keys.dave] };
    },
  },
  {
    name: 'a sublayout verified with its own links',
    expect: 'pass',
    build: (dir, keys) => buildSublayout(dir, keys, false),
  },
  {
    name: 'a sublayout whose inner link was tampered',
    expect: 'fail',
    build: (dir, keys) => buildSublayout(dir, keys, true),
  },
];

/** Step 'build' of the root layout is delegated to alice's sublayout with steps compile (bob) and check (erin). */
function buildSublayout(dir: string, keys: Keys, tamper: boolean): void {
  const sub = join(dir, `build.${keys.alice.keyid.slice(0, 8)}`);
  const specs = sublayoutSpecs(keys);
  writeLayout(join(dir, `build.${keys.alice.keyid.slice(0, 8)}.link`), specs.sub);
  writeLayout(join(dir, 'root.layout'), specs.root);
  write(dir, 'app', 'binary');
  referenceRun(dir, 'compile', keys.bob, { products: ['app'] });
  referenceRun(dir, 'check', keys.erin, { materials: ['app'], products: ['app'] });
  for (const f of readdirSync(dir)) if (/^(compile|check)\..*\.link$/.test(f)) (copyInto(join(dir, f), join(sub, f)), unlinkSync(join(dir, f)));
  if (tamper) tamperFile(linkOf(sub, 'compile'), '"sha256": "', '"sha256": "f');
  referenceRun(dir, 'release', keys.carol, { materials: ['app'] });
}

async function ours(dir: string, built: Built, keys: Keys): Promise<Verdict> {
  const layoutKeys = (built.layoutKeys ?? [keys.owner]).map((k) => loadPublicKey(readFileSync(`${k.path}.pub`), { keyType: k.type }));
  return verify({
    layout: readFileSync(join(dir, built.layout ?? 'root.layout')),
    layoutKeys,
    links: { directory: join(dir, built.linkDir ?? '.') },
    inspections: { run: nodeInspectionRunner({ cwd: dir }) },
  });
}

describe('verdicts agree with in-toto-verify 1.3.1', () => {
  let keys: Keys;
  beforeAll(async () => {
    assertReferenceInstalled();
    await initEngine();
    keys = makeKeySet();
  });

  it('has at least 30 scenarios', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(30);
  });

  it.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const theirsDir = makeTempDir('in-toto-scenario-');
    const built = scenario.build(theirsDir, keys) ?? {};
    const oursDir = makeTempDir('in-toto-scenario-ours-');
    copyInto(theirsDir, oursDir);

    const reference = referenceVerify(theirsDir, built.layout ?? 'root.layout', built.layoutKeys ?? [keys.owner], built.linkDir);
    const verdict = await ours(oursDir, built, keys);

    expect({ reference: reference.status === 0 ? 'pass' : 'fail', output: reference.status === 0 ? '' : reference.output.trim().split('\n').pop() })
      .toMatchObject({ reference: scenario.expect });
    expect({ ours: verdict.passed ? 'pass' : 'fail', failures: verdict.failures.map((f) => f.message) }).toMatchObject({ ours: scenario.expect });
    if (scenario.code) expect(verdict.failures.map((f) => f.code)).toContain(scenario.code);
  });
});
