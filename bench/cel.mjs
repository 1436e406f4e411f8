#!/usr/bin/env node
// CEL evaluation, measured (issue 19): writes bench/CEL.md. The rules of an attestation layout (attestation-verifier's
// npm layout: eight rules over an npm SLSA v0.2 provenance, three over its publish attestation, parameters
// substituted) over the same Statements, rules per second:
//   - this package: `evaluateCel(rule, {predicate, subject, predicateType})`, the engine parsing and evaluating each
//     rule on each call (what `verifyAttestationLayout` does);
//   - @marcbachmann/cel-js 8.0.0 (pure JavaScript, from npm): `evaluate(rule, context)`, also parsing each time; and
//     its parse-once form (`parse(rule)` kept, then called), which this package does not offer yet.
// Both must give the same results on every rule before anything is timed. Run: npm run build && node bench/cel.mjs
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { evaluate, parse } from '@marcbachmann/cel-js';
import { ROOT } from './lib/fixtures.mjs';

const { evaluateCel, evaluateCelMany } = await import(join(ROOT, 'dist', 'attestation', 'cel.js'));
const { initEngine } = await import(join(ROOT, 'dist', 'index.js'));
await initEngine();

const repo = 'sigstore/sigstore-js';
const provenance = {
  predicateType: 'https://slsa.dev/provenance/v0.2',
  subject: [{ name: 'pkg:npm/sigstore@1.2.0', digest: { sha512: 'ab'.repeat(64) } }],
  predicate: {
    buildType: 'https://github.com/npm/cli/gha/v2',
    builder: { id: 'https://github.com/actions/runner' },
    invocation: {
      configSource: { uri: `git+https://github.com/${repo}@refs/heads/main`, digest: { sha1: '5b8c0801d1f5d105351a403f58c38269de93f680' }, entryPoint: '.github/workflows/release.yml' },
      parameters: {},
      environment: {
        GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: repo, GITHUB_REPOSITORY_ID: '495574555',
        GITHUB_REPOSITORY_OWNER_ID: '71096353', GITHUB_RUN_ATTEMPT: '1', GITHUB_RUN_ID: '4735384265', GITHUB_SHA: '5b8c0801d1f5d105351a403f58c38269de93f680',
        GITHUB_WORKFLOW_REF: `${repo}/.github/workflows/release.yml@refs/heads/main`, GITHUB_WORKFLOW_SHA: '5b8c0801d1f5d105351a403f58c38269de93f680',
      },
    },
    metadata: { buildInvocationId: '4735384265-1', completeness: { parameters: false, environment: false, materials: false }, reproducible: false },
    materials: [{ uri: `git+https://github.com/${repo}@refs/heads/main`, digest: { sha1: '5b8c0801d1f5d105351a403f58c38269de93f680' } }],
  },
};
const publish = {
  predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
  subject: provenance.subject,
  predicate: { name: 'sigstore', version: '1.2.0', registry: 'https://registry.npmjs.org' },
};
const cases = [
  ...[
    "predicate.buildType == 'https://github.com/npm/cli/gha/v2'",
    `predicate.invocation.configSource.uri == 'git+https://github.com/${repo}@refs/heads/main'`,
    "predicate.invocation.configSource.entryPoint == '.github/workflows/release.yml'",
    "predicate.invocation.environment.GITHUB_REF == 'refs/heads/main'",
    `predicate.invocation.environment.GITHUB_REPOSITORY == '${repo}'`,
    "predicate.invocation.environment.GITHUB_REPOSITORY_ID == '495574555'",
    "predicate.invocation.environment.GITHUB_REPOSITORY_OWNER_ID == '71096353'",
    `predicate.invocation.environment.GITHUB_WORKFLOW_REF == '${repo}/.github/workflows/release.yml@refs/heads/main'`,
  ].map((rule) => ({ rule, statement: provenance })),
  ...["predicate.name == 'sigstore'", "predicate.version == '1.2.0'", "predicate.registry == 'https://registry.npmjs.org'"].map((rule) => ({ rule, statement: publish })),
];

const ours = (c) => {
  const r = evaluateCel(c.rule, { predicate: { json: c.statement.predicate }, subject: { json: c.statement.subject }, predicateType: { type: 'string', value: c.statement.predicateType } });
  if ('error' in r || r.value.type !== 'bool') throw new Error(`${c.rule}: ${JSON.stringify(r)}`);
  return r.value.value;
};
const theirs = (c) => evaluate(c.rule, c.statement);
const compiled = cases.map((c) => ({ ...c, program: parse(c.rule) }));
const theirsCompiled = (c) => c.program(c.statement);

// The same verdicts, true on every rule, and false on a changed Statement, before timing.
for (const c of cases) {
  if (ours(c) !== true || theirs(c) !== true) throw new Error(`not true on both: ${c.rule}`);
  const changed = { ...c.statement, predicate: { ...c.statement.predicate, name: 'other', buildType: 'other' } };
  if (c.rule.startsWith('predicate.name') || c.rule.startsWith('predicate.buildType')) {
    if (ours({ ...c, statement: changed }) !== false || theirs({ ...c, statement: changed }) !== false) throw new Error(`not false on both: ${c.rule}`);
  }
}

const bench = new Bench({ time: 1500 });
bench.add('in-toto-wasm evaluateCel (engine; parse + evaluate each call)', () => { for (const c of cases) ours(c); });
const byStatement = [provenance, publish].map((statement) => ({ statement, rules: cases.filter((c) => c.statement === statement).map((c) => c.rule) }));
bench.add('in-toto-wasm evaluateCelMany (a Statement\'s rules in one call, as the layout verifier)', () => {
  for (const { statement, rules } of byStatement) evaluateCelMany(rules, { predicate: { json: statement.predicate }, subject: { json: statement.subject }, predicateType: { type: 'string', value: statement.predicateType } });
});
bench.add('@marcbachmann/cel-js evaluate (parse + evaluate each call)', () => { for (const c of cases) theirs(c); });
bench.add('@marcbachmann/cel-js parse once, evaluate', () => { for (const c of compiled) theirsCompiled(c); });
// Where this package's time goes: the fixed cost of a call, and the cost of the Statement's copy into the engine.
bench.add('in-toto-wasm: `true`, no variables (the cost of a call)', () => { for (const c of cases) evaluateCel('true'); });
bench.add('in-toto-wasm: `true` with the Statement (a call and its copy)', () => {
  for (const c of cases) evaluateCel('true', { predicate: { json: c.statement.predicate }, subject: { json: c.statement.subject }, predicateType: { type: 'string', value: c.statement.predicateType } });
});
await bench.run();
const rows = bench.tasks.map((t) => ({ name: t.name, rulesPerSecond: (t.result.throughput?.mean ?? t.result.hz) * cases.length, rme: t.result.latency?.rme ?? t.result.rme }));
const base = rows[0].rulesPerSecond;
const table = rows.map((r) => `| ${r.name} | ${Math.round(r.rulesPerSecond).toLocaleString('en-US')} | ±${r.rme.toFixed(1)}% | ${(r.rulesPerSecond / base).toFixed(2)}x |`).join('\n');
const text = `# CEL evaluation (bench/cel.mjs)

The ${cases.length} attribute rules of attestation-verifier's npm layout over an npm provenance (SLSA v0.2) and publish
Statement, each rule evaluated on its Statement, both implementations giving the same result on every rule (checked
before timing). Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${new Date().toISOString().slice(0, 10)}.

| implementation | rules/s | rme | vs this package |
|---|---:|---:|---:|
${table}

The last two rows split this package's time: a call that evaluates \`true\` (crossing into the engine, the result
decoded) and one that also copies the Statement in (serialized to JSON, parsed and converted to CEL values by the
engine): the copy is most of a call. \`evaluateCelMany\` (the engine's \`cel_eval_many\`) copies a Statement once for
all its rules, which is what the attestation-layout verifier does. The rest of the gap is the engine's conversion of
the Statement to CEL values (eager, allocating) and parsing each rule each time: a lazily converted activation and
rules compiled once are the next steps, not built yet.
`;
writeFileSync(join(ROOT, 'bench', 'CEL.md'), text);
process.stdout.write(text);
