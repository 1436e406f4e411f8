// The Deno example (examples/deno/verify-dir.ts), run as a person would run it, on the conformance vectors'
// demo directories: a good release, a tampered one, and a good chain delivered with someone else's product.
const app = new URL('../../../', import.meta.url);
const script = new URL('examples/deno/verify-dir.ts', app).pathname;
const scenario = (id) => new URL(`test/conformance/vectors/scenarios/${id}`, app).pathname;

async function run(...args) {
  const command = new Deno.Command(Deno.execPath(), {
    args: ['run', '--check', '--no-remote', '--node-modules-dir=manual', '--allow-read', script, ...args],
    cwd: app.pathname,
    stdout: 'piped',
    stderr: 'piped',
  });
  const { code, stdout, stderr } = await command.output();
  const decode = (b) => new TextDecoder().decode(b);
  return { code, out: decode(stdout), err: decode(stderr) };
}

function expect(cond, message, result) {
  if (!cond) throw new Error(`${message}\n--- exit ${result?.code}\n${result?.out ?? ''}${result?.err ?? ''}`);
}

const KEY = ['--layout-key', 'keys/owner.pub', '--key-type', 'ed25519'];

Deno.test('deno example: a good release verifies, and its product is the chain\'s', async () => {
  const r = await run(scenario('demo'), ...KEY, '--inspection-links', 'inspections');
  expect(r.code === 0, 'expected exit 0', r);
  expect(/foo\.tar\.gz: sha256 [0-9a-f]{64} is what the chain produced/.test(r.out), 'expected the product check', r);
});

Deno.test('deno example: a tampered product fails, and the output says where', async () => {
  const r = await run(scenario('demo-tampered-product'), ...KEY, '--inspection-links', 'inspections');
  expect(r.code === 1, 'expected exit 1', r);
  expect(r.err.includes('RULE_DISALLOW') && r.err.includes("inspection 'untar'") && r.err.includes('foo.tar.gz'), 'expected the failing rule and artifact', r);
  expect(/expected sha256:[0-9a-f]{64}/.test(r.err) && /found {4}sha256:[0-9a-f]{64}/.test(r.err), 'expected both digests', r);
});

Deno.test('deno example: a good chain with someone else\'s product fails (inspections skipped)', async () => {
  const dir = await Deno.makeTempDir();
  for await (const entry of Deno.readDir(scenario('demo'))) {
    if (entry.isFile) await Deno.copyFile(`${scenario('demo')}/${entry.name}`, `${dir}/${entry.name}`);
  }
  await Deno.mkdir(`${dir}/keys`);
  await Deno.copyFile(`${scenario('demo')}/keys/owner.pub`, `${dir}/keys/owner.pub`);
  await Deno.copyFile(`${scenario('demo-tampered-product')}/foo.tar.gz`, `${dir}/foo.tar.gz`);
  const r = await run(dir, ...KEY, '--skip-inspections');
  expect(r.code === 1, 'expected exit 1', r);
  expect(r.err.includes('INSPECTIONS_SKIPPED') && r.err.includes('foo.tar.gz: NOT what the chain produced'), 'expected the skip warning and the product mismatch', r);
});

Deno.test('deno example: --json, and wrong arguments exit 2', async () => {
  const r = await run(scenario('demo'), ...KEY, '--inspection-links', 'inspections', '--json');
  expect(r.code === 0 && JSON.parse(r.out).passed === true, 'expected a passing JSON verdict', r);
  const bad = await run(scenario('demo'));
  expect(bad.code === 2 && bad.err.includes('--layout-key is required'), 'expected exit 2', bad);
});
