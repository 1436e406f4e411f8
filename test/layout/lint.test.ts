/**
 * The layout linter: every code has a layout that triggers it and the corrected layout that does not; the
 * claims the findings rest on are checked against the reference where they can be; "never matches" is
 * checked to be sound against the engine's fnmatch with generated patterns.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { initEngine } from '../../bindings/engine.js';
import { serializeEnvelope } from '../../bindings/metadata/envelope.js';
import { keyToDict, type PrivateKey } from '../../bindings/keys/keys.js';
import { LayoutBuilder, signLayout } from '../../bindings/layout/layout-builder.js';
import { LINT_CODES, lintLayout, type LintCode, type LintFinding } from '../../bindings/layout/lint.js';
import { layoutToJSON, parseLayout, type Layout } from '../../bindings/metadata/models.js';
import { matchGlob } from '../../bindings/verify/rule-engine.js';
import { makeTempDir, runPython } from '../helpers/reference.js';
import { write } from '../helpers/scenario.js';

const CLI = fileURLToPath(new URL('../../dist/cli/in-toto-layout.js', import.meta.url));
const NOW = new Date('2026-06-01T00:00:00Z');
const FAR = '2099-01-01T00:00:00Z';

let alice: PrivateKey;
let bob: PrivateKey;
let carol: PrivateKey;

beforeAll(async () => {
  await initEngine();
  [alice, bob, carol] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
});

/** A small, clean chain: build by alice, test by bob; every rule closed. `change` edits it per test. */
function chain(change: (b: LayoutBuilder) => void = () => {}): Layout {
  const b = new LayoutBuilder({ now: NOW })
    .expires(FAR)
    .step('build', (s) => s.functionaries(alice.publicKey).materials('ALLOW src/*', 'DISALLOW *').products('CREATE app.bin', 'DISALLOW *'))
    .step('test', (s) => s.functionaries(bob.publicKey).materials('MATCH app.bin WITH PRODUCTS FROM build', 'DISALLOW *').products('DISALLOW *'))
    .inspection('check', (i) => i.run('true').materials('MATCH app.bin WITH PRODUCTS FROM build', 'ALLOW *'));
  change(b);
  return b.build();
}

const codes = (findings: readonly LintFinding[]) => findings.map((f) => f.code);
const lint = (layout: Layout, now = NOW) => lintLayout(layout, { now });

/** Asserts `bad` has exactly one finding of `code` (with its explanation), and `good` none of it. */
function pair(code: LintCode, bad: Layout, good: Layout, where: Partial<LintFinding> = {}): LintFinding {
  const found = lint(bad).filter((f) => f.code === code);
  expect(found, `${code} on the failing example`).toHaveLength(1);
  const f = found[0]!;
  expect(f.severity).toBe(LINT_CODES[code].severity);
  expect(f.message.length).toBeGreaterThan(20);
  expect(f.risk.length).toBeGreaterThan(20);
  expect(f.fix.length).toBeGreaterThan(10);
  expect(f).toMatchObject(where);
  expect(codes(lint(good)), `${code} on the passing example`).not.toContain(code);
  return f;
}

describe('lintLayout', () => {
  it('finds nothing in a clean chain', () => {
    expect(lint(chain())).toEqual([]);
  });

  it('PRODUCTS_NOT_CLOSED', () => {
    const f = pair(
      'PRODUCTS_NOT_CLOSED',
      chain((b) => b.updateStep('build', (s) => s.setProducts(['CREATE app.bin']))),
      chain(),
      { step: 'build', kind: 'step', side: 'products', field: 'steps[0].expected_products' },
    );
    expect(f.message).toContain("'CREATE app.bin'");
    expect(f.fix).toContain('DISALLOW *');
    // An empty list is not closed either.
    expect(codes(lint(chain((b) => b.updateStep('test', (s) => s.setProducts([])))))).toContain('PRODUCTS_NOT_CLOSED');
  });

  it('MATCH_UNKNOWN_STEP', () => {
    const f = pair(
      'MATCH_UNKNOWN_STEP',
      chain((b) => b.updateStep('test', (s) => s.setMaterials(['MATCH app.bin WITH PRODUCTS FROM biuld', 'DISALLOW *']))),
      chain(),
      { step: 'test', side: 'materials', ruleIndex: 0, rule: 'MATCH app.bin WITH PRODUCTS FROM biuld', field: 'steps[1].expected_materials[0]' },
    );
    expect(f.fix).toContain("'build'");
  });

  it('MATCH_FROM_INSPECTION', () => {
    pair(
      'MATCH_FROM_INSPECTION',
      chain((b) => b.updateStep('test', (s) => s.setMaterials(['MATCH app.bin WITH PRODUCTS FROM check', 'DISALLOW *']))),
      // An inspection may match another inspection: not a finding.
      chain((b) => b.inspection('again', (i) => i.run('true').materials('MATCH app.bin WITH MATERIALS FROM check', 'ALLOW *'))),
      { step: 'test', kind: 'step', ruleIndex: 0 },
    );
  });

  it('PATTERN_NEVER_MATCHES', () => {
    const f = pair(
      'PATTERN_NEVER_MATCHES',
      chain((b) => b.updateStep('test', (s) => s.setMaterials(['MATCH app.exe WITH PRODUCTS FROM build', 'DISALLOW *']))),
      chain((b) => b.updateStep('test', (s) => s.setMaterials(['MATCH app.* WITH PRODUCTS FROM build', 'DISALLOW *']))),
      { step: 'test', side: 'materials', ruleIndex: 0 },
    );
    expect(f.message).toContain('only app.bin');
    expect(f.risk).toContain('DISALLOW * fail every verification');
    // Prefixes: the other step's files are looked up under the destination prefix.
    const prefixed = (rule: string) => chain((b) => b.updateStep('test', (s) => s.setMaterials([rule, 'DISALLOW *'])));
    expect(codes(lint(prefixed('MATCH bin WITH PRODUCTS IN app. FROM build')))).toContain('PATTERN_NEVER_MATCHES'); // app./bin
    expect(codes(lint(prefixed('MATCH * WITH PRODUCTS IN dist FROM build')))).toContain('PATTERN_NEVER_MATCHES');
    const inDist = (rule: string) =>
      chain((b) => b.updateStep('build', (s) => s.setProducts(['CREATE dist/app.bin', 'DISALLOW *'])).updateStep('test', (s) => s.setMaterials([rule, 'DISALLOW *'])));
    const ofTest = (layout: Layout) => codes(lint(layout).filter((x) => x.step === 'test'));
    expect(ofTest(inDist('MATCH app.bin WITH PRODUCTS IN dist FROM build'))).not.toContain('PATTERN_NEVER_MATCHES');
    expect(ofTest(inDist('MATCH app.bin WITH PRODUCTS IN dist/ FROM build'))).not.toContain('PATTERN_NEVER_MATCHES');
    expect(ofTest(inDist('MATCH app.bin WITH PRODUCTS FROM build'))).toContain('PATTERN_NEVER_MATCHES');
    // Two globs that share no path: *.c against the other step's *.o.
    const globs = chain((b) =>
      b
        .updateStep('build', (s) => s.setProducts(['CREATE *.o', 'DISALLOW *']))
        .updateStep('test', (s) => s.setMaterials(['MATCH *.c WITH PRODUCTS FROM build', 'DISALLOW *'])),
    );
    expect(codes(lint(globs))).toContain('PATTERN_NEVER_MATCHES');
    // A step whose products are not closed may have produced anything: no finding.
    const open = chain((b) =>
      b.updateStep('build', (s) => s.setProducts(['CREATE app.bin'])).updateStep('test', (s) => s.setMaterials(['MATCH x WITH PRODUCTS FROM build', 'DISALLOW *'])),
    );
    expect(codes(lint(open))).not.toContain('PATTERN_NEVER_MATCHES');
    // A step that may produce nothing at all.
    const nothing = chain((b) => b.updateStep('build', (s) => s.setProducts(['DISALLOW *'])));
    const none = lint(nothing).filter((x) => x.code === 'PATTERN_NEVER_MATCHES');
    expect(none.length).toBeGreaterThan(0);
    expect(none[0]!.message).toContain('no products at all');
  });

  it('PATTERN_NEVER_MATCHES is never wrong: when it says never, no path matches both (fnmatch of the engine)', () => {
    const symbols = ['a', 'b', '/', '.', '[', ']', '!', '-'];
    // Every path of up to 3 of these symbols: the witnesses a wrong "never" would be caught by.
    const candidates = [''];
    for (let n = 0; n < 3; n++) for (const c of candidates.filter((x) => x.length === n)) for (const s of symbols) candidates.push(c + s);
    const pattern = fc.array(fc.constantFrom(...symbols, '*', '?', '^', '\\'), { minLength: 1, maxLength: 5 }).map((a) => a.join(''));
    let findings = 0;
    fc.assert(
      fc.property(pattern, pattern, fc.constantFrom('', 'a', 'a/'), (produced, wanted, prefix) => {
        const layout = chain((b) =>
          b
            .updateStep('build', (s) => s.setProducts([['ALLOW', produced], ['DISALLOW', '*']]))
            .updateStep('test', (s) => s.setMaterials([prefix ? ['MATCH', wanted, 'WITH', 'PRODUCTS', 'IN', prefix, 'FROM', 'build'] : ['MATCH', wanted, 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']])),
        );
        if (!codes(lint(layout).filter((f) => f.step === 'test')).includes('PATTERN_NEVER_MATCHES')) return;
        findings++;
        const dst = prefix ? prefix.replace(/\/?$/, '/') : '';
        for (const c of candidates) expect(matchGlob(produced, dst + c) && matchGlob(wanted, c), `${produced} / ${wanted} / ${c}`).toBe(false);
      }),
      { numRuns: 600 },
    );
    // The property was exercised, not vacuous.
    expect(findings).toBeGreaterThan(50);
  });

  it('RULE_UNREACHABLE', () => {
    const f = pair(
      'RULE_UNREACHABLE',
      chain((b) => b.updateStep('test', (s) => s.setMaterials(['MATCH app.bin WITH PRODUCTS FROM build', 'ALLOW *', 'DISALLOW *']))),
      chain(),
      { step: 'test', side: 'materials', ruleIndex: 2 },
    );
    expect(f.risk).toContain("'DISALLOW *'");
    expect(f.risk).toContain('never protect');
    // After DISALLOW * as well.
    expect(codes(lint(chain((b) => b.updateStep('build', (s) => s.setProducts(['DISALLOW *', 'CREATE app.bin'])))))).toContain('RULE_UNREACHABLE');
  });

  it('RULE_INEFFECTIVE, as the reference consumes (CREATE takes products - materials, DELETE materials - products)', () => {
    pair(
      'RULE_INEFFECTIVE',
      chain((b) => b.updateStep('build', (s) => s.setMaterials(['CREATE src/*', 'DISALLOW *']))),
      chain((b) => b.updateStep('build', (s) => s.setMaterials(['DELETE src/*', 'DISALLOW *']))),
      { step: 'build', side: 'materials', ruleIndex: 0 },
    );
    pair(
      'RULE_INEFFECTIVE',
      chain((b) => b.updateStep('build', (s) => s.setProducts(['CREATE app.bin', 'DELETE tmp/*', 'DISALLOW *']))),
      chain(),
      { step: 'build', side: 'products', ruleIndex: 1 },
    );
    // The reference: CREATE among materials leaves the material in the queue, so DISALLOW * fails.
    const consumed = runPython(`
import json
from in_toto.verifylib import verify_create_rule, verify_delete_rule
m = {"a", "b"}; p = {"b", "c"}
print(json.dumps([sorted(verify_create_rule("*", m, m, p)), sorted(verify_delete_rule("*", p, m, p))]))
`).toString();
    expect(JSON.parse(consumed)).toEqual([[], []]);
  });

  it('THRESHOLD_UNREACHABLE', () => {
    pair(
      'THRESHOLD_UNREACHABLE',
      chain((b) => b.updateStep('build', (s) => s.threshold(2))),
      chain((b) => b.updateStep('build', (s) => s.functionaries(carol.publicKey).threshold(2))),
      { step: 'build', field: 'steps[0].threshold' },
    );
    // Listing a key twice does not make two functionaries.
    expect(codes(lint(chain((b) => b.updateStep('build', (s) => s.functionaries(alice.keyid).threshold(2)))))).toContain('THRESHOLD_UNREACHABLE');
  });

  it('PUBKEY_NOT_IN_KEYS', () => {
    pair(
      'PUBKEY_NOT_IN_KEYS',
      chain((b) => b.updateStep('build', (s) => s.functionaries('ab'.repeat(32)))),
      chain((b) => b.updateStep('build', (s) => s.functionaries(carol.publicKey))),
      { step: 'build', keyid: 'ab'.repeat(32) },
    );
  });

  it('KEY_UNUSED', () => {
    pair('KEY_UNUSED', chain((b) => b.addKey(carol.publicKey)), chain(), { keyid: carol.keyid });
  });

  it('KEY_INVALID', () => {
    const json = layoutToJSON(chain());
    const swapped = { ...json, keys: { [alice.keyid]: { ...keyToDict(bob.publicKey), keyid: alice.keyid } as never, [bob.keyid]: json.keys[bob.keyid]! } };
    pair('KEY_INVALID', parseLayout(swapped), chain(), { keyid: alice.keyid });
    const broken = { ...json, keys: { ...json.keys, [alice.keyid]: { ...json.keys[alice.keyid]!, keyval: { public: 'zz' } } } };
    expect(lint(parseLayout(broken)).find((f) => f.code === 'KEY_INVALID')!.message).toContain('cannot be read');
  });

  it('LAYOUT_EXPIRED and LAYOUT_EXPIRES_SOON', () => {
    pair('LAYOUT_EXPIRED', chain((b) => b.expires('2026-05-31T23:59:59Z')), chain(), { field: 'expires' });
    const soon = pair('LAYOUT_EXPIRES_SOON', chain((b) => b.expires('2026-06-11T00:00:00Z')), chain((b) => b.expires('2026-07-02T00:00:00Z')));
    expect(soon.message).toContain('in 10 days');
    expect(codes(lintLayout(chain((b) => b.expires('2026-06-11T00:00:00Z')), { now: NOW, expiresSoonDays: 7 }))).toEqual([]);
  });

  it('PRODUCT_UNCHECKED: nothing compares the files being verified with the chain', () => {
    const bare = new LayoutBuilder({ now: NOW })
      .expires(FAR)
      .step('build', (s) => s.functionaries(alice.publicKey).materials('ALLOW src/*', 'DISALLOW *').products('CREATE app.bin', 'DISALLOW *'))
      .step('test', (s) => s.functionaries(bob.publicKey).materials('MATCH app.bin WITH PRODUCTS FROM build', 'DISALLOW *').products('DISALLOW *'))
      .build();
    const f = pair('PRODUCT_UNCHECKED', bare, chain(), { field: 'inspect' });
    expect(f.message).toContain('the layout has no inspections');
    expect(f.risk).toContain('a replaced product passes');
    // An inspection that MATCHes nothing from a step's products does not tie the files either.
    const loose = new LayoutBuilder({ now: NOW })
      .expires(FAR)
      .step('build', (s) => s.functionaries(alice.publicKey).materials('ALLOW src/*', 'DISALLOW *').products('CREATE app.bin', 'DISALLOW *'))
      .step('test', (s) => s.functionaries(bob.publicKey).materials('MATCH app.bin WITH PRODUCTS FROM build', 'DISALLOW *').products('DISALLOW *'))
      .inspection('look', (i) => i.run('true').materials('ALLOW *'))
      .build();
    expect(codes(lint(loose))).toContain('PRODUCT_UNCHECKED');
    expect(lint(loose).find((x) => x.code === 'PRODUCT_UNCHECKED')!.fix).toContain("WITH PRODUCTS FROM the step that made them (e.g. 'test'");
  });

  it('every code has a failing and a passing example above, and can be ignored', () => {
    const bad = chain((b) => b.updateStep('build', (s) => s.setProducts(['CREATE app.bin'])).addKey(carol.publicKey));
    expect(codes(lintLayout(bad, { now: NOW, ignore: ['KEY_UNUSED'] }))).toEqual(['PRODUCTS_NOT_CLOSED']);
    // The attestation-layout codes: test/layout/attestation-lint.test.ts.
    expect(Object.keys(LINT_CODES).sort()).toEqual([
      'ATTESTATION_LAYOUT_INVALID', 'CEL_CONSTANT', 'CEL_SYNTAX', 'CEL_UNKNOWN_FIELD', 'CEL_UNKNOWN_VARIABLE', 'KEY_INVALID', 'KEY_UNUSED', 'LAYOUT_EXPIRED', 'LAYOUT_EXPIRES_SOON', 'MATCH_FROM_INSPECTION', 'MATCH_UNKNOWN_STEP',
      'PATTERN_NEVER_MATCHES', 'PREDICATE_NO_FUNCTIONARIES', 'PREDICATE_TYPE_UNKNOWN', 'PRODUCTS_NOT_CLOSED', 'PRODUCT_UNCHECKED', 'PUBKEY_NOT_IN_KEYS', 'RULE_INEFFECTIVE', 'RULE_UNREACHABLE', 'STEP_NAME_UNFILEABLE', 'THRESHOLD_UNREACHABLE',
    ]);
  });

  it('takes the signed object as well as the model', () => {
    const layout = chain((b) => b.addKey(carol.publicKey));
    expect(lintLayout(layoutToJSON(layout), { now: NOW })).toEqual(lintLayout(layout, { now: NOW }));
  });
});

describe('in-toto-layout lint', () => {
  const run = (cwd: string, args: string[]) => spawnSync(process.execPath, [CLI, 'lint', ...args], { cwd, encoding: 'utf8' });

  it('exit codes follow --fail-on; --json and --ignore; reads layouts and descriptions', async () => {
    const dir = makeTempDir('in-toto-lint-cli-');
    const clean = chain();
    write(dir, 'clean.layout', serializeEnvelope(await signLayout(clean, [alice])));
    const clean1 = run(dir, ['clean.layout', '--now', '2026-06-01T00:00:00Z']);
    expect(clean1.status).toBe(0);
    expect(clean1.stderr).toContain('no findings');

    const warn = chain((b) => b.addKey(carol.publicKey));
    write(dir, 'warn.layout', serializeEnvelope(await signLayout(warn, [])));
    const warned = run(dir, ['warn.layout', '--now', '2026-06-01T00:00:00Z']);
    expect(warned.status).toBe(1);
    expect(warned.stderr).toContain('warning [KEY_UNUSED]');
    expect(warned.stderr).toContain('risk:');
    expect(warned.stderr).toContain('fix:');
    expect(run(dir, ['warn.layout', '--now', '2026-06-01T00:00:00Z', '--fail-on', 'error']).status).toBe(0);
    expect(run(dir, ['warn.layout', '--now', '2026-06-01T00:00:00Z', '--ignore', 'KEY_UNUSED']).status).toBe(0);
    const json = run(dir, ['warn.layout', '--now', '2026-06-01T00:00:00Z', '--json']);
    expect(JSON.parse(json.stdout).map((f: LintFinding) => f.code)).toEqual(['KEY_UNUSED']);

    write(dir, 'desc.json', JSON.stringify({ expires: '2020-01-01T00:00:00Z', steps: [{ name: 'a', products: ['CREATE x'] }] }));
    const desc = run(dir, ['desc.json', '--json', '--fail-on', 'error']);
    expect(desc.status).toBe(1);
    expect(JSON.parse(desc.stdout).map((f: LintFinding) => f.code)).toEqual(['LAYOUT_EXPIRED', 'THRESHOLD_UNREACHABLE', 'PRODUCTS_NOT_CLOSED', 'PRODUCT_UNCHECKED']);

    expect(run(dir, ['warn.layout', '--ignore', 'NOT_A_CODE']).status).toBe(2);
    expect(run(dir, ['missing.layout']).status).toBe(1);
    const list = run(dir, ['--codes']);
    expect(list.status).toBe(0);
    for (const code of Object.keys(LINT_CODES)) expect(list.stdout).toContain(code);
    expect(join(dir)).toBeTruthy();
  });
});
