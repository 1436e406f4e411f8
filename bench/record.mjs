// Recording, whole process: our in-toto-run against the reference's on the same trees of N small files
// (the chain fixtures' src/, N = 1,000 / 10,000 / 100,000), materials and products, no command, ed25519,
// interleaved in one run. Writes bench/RECORD.md. `node bench/record.mjs` (after `npm run build`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT, chainFixture, ensureReference } from './lib/fixtures.mjs';
import { compareRuns, ensureGnuTime } from './lib/measure.mjs';

const log = (line) => process.stdout.write(`${line}\n`);
ensureReference(log);
ensureGnuTime(log);

const rows = [];
for (const [n, reps] of [[1_000, 5], [10_000, 3], [100_000, 2]]) {
  const fixture = await chainFixture(n, log);
  log(`recording N = ${n}`);
  const out = () => {
    const dir = mkdtempSync(join(tmpdir(), 'in-toto-record-bench-'));
    return { dir, args: ['-n', 'rec', '-k', 'functionary0', '-t', 'ed25519', '-m', 'src', '-p', 'src', '-d', dir, '-x'] };
  };
  const contender = (name, cmd, pre) => ({
    name,
    cmd,
    args: [],
    prepare() {
      const o = out();
      this.args = [...pre, ...o.args];
      return { cwd: fixture.dir, cleanup: () => rmSync(o.dir, { recursive: true, force: true }) };
    },
  });
  const result = compareRuns(
    [contender('ours', process.execPath, [join(ROOT, 'bin/in-toto-run.js')]), contender('reference', 'in-toto-run', [])],
    { reps, warmup: 1, log },
  );
  rows.push({ n, ...result });
}

const f = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const table = rows.map((r) =>
  `| ${r.n.toLocaleString('en')} | ${f(r.ours.ms.mean)} ± ${f(r.ours.ms.sd)} | ${f(r.reference.ms.mean)} ± ${f(r.reference.ms.sd)} | **${(r.reference.ms.mean / r.ours.ms.mean).toFixed(1)}x** | ${r.ours.rssMiB.max.toFixed(0)} / ${r.reference.rssMiB.max.toFixed(0)} MiB |`);
const md = `# Recording benchmark

Written by \`node bench/record.mjs\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: \`in-toto-run -m src -p src -x\` with an
ed25519 key over N small files (the chain fixtures of bench/run.mjs), ours and the reference's, interleaved.

| N files | ours | reference | reference / ours | peak RSS ours / reference |
|---|---|---|---|---|
${table.join('\n')}
`;
writeFileSync(join(BENCH, 'RECORD.md'), md);
log(md);
