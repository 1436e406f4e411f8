// Tests of the web example in headless Chromium, run by scripts/runtimes/chromium.mjs: files are given to
// the page's file input as a person would pick them, and the verdict is read off the page.
import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The files a person would drop for a scenario: layout, key, links, pre-recorded inspections, product. */
function filesOf(vectors, id, { inspections = true, product } = {}) {
  const dir = join(vectors, 'scenarios', id);
  const files = [join(dir, 'root.layout'), join(dir, 'keys', 'owner.pub')];
  for (const f of readdirSync(dir)) if (f.endsWith('.link')) files.push(join(dir, f));
  if (inspections) files.push(join(dir, 'inspections', 'untar.link'));
  // Scenarios that do not change the product do not keep a copy of it: the demo's is the same file.
  files.push(product ?? (existsSync(join(dir, 'foo.tar.gz')) ? join(dir, 'foo.tar.gz') : join(vectors, 'scenarios', 'demo', 'foo.tar.gz')));
  return files;
}

async function verdictFor(context, url, files, screenshot) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/examples/web/`);
  await page.setInputFiles('#files', files);
  await page.waitForSelector('#verdict[data-state="done"]', { timeout: 30_000 });
  const result = await page.getAttribute('#verdict', 'data-result');
  const text = await page.innerText('#verdict');
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
  return { result, text };
}

function expect(cond, message, got) {
  if (!cond) throw new Error(`${message}; the page said: ${got.text.slice(0, 600)}`);
}

const shots = process.env.IN_TOTO_SCREENSHOTS; // a directory, to look at the page

export const exampleChecks = [
  ['a good release passes, and the product is the chain\'s', async ({ context, url, vectors }) => {
    const got = await verdictFor(context, url, filesOf(vectors, 'demo'), shots && join(shots, 'web-pass.png'));
    expect(got.result === 'pass', 'expected a pass', got);
    expect(got.text.includes('foo.tar.gz is what the chain produced'), 'expected the product check', got);
  }],
  ['a tampered product fails, explained by rule, artifact and digests', async ({ context, url, vectors }) => {
    const got = await verdictFor(context, url, filesOf(vectors, 'demo-tampered-product'), shots && join(shots, 'web-fail.png'));
    expect(got.result === 'fail', 'expected a failure', got);
    expect(got.text.includes('RULE_DISALLOW') && got.text.includes("inspection 'untar'") && got.text.includes('foo.tar.gz'), 'expected the failing rule', got);
    expect(/expected \(products of 'package'\)\s*sha256:[0-9a-f]{64}/.test(got.text) && /found\s*sha256:[0-9a-f]{64}/.test(got.text), 'expected both digests', got);
  }],
  ['a good chain with someone else\'s product fails (inspections skipped, said so)', async ({ context, url, vectors }) => {
    const dir = mkdtempSync(join(tmpdir(), 'web-example-'));
    copyFileSync(join(vectors, 'scenarios', 'demo-tampered-product', 'foo.tar.gz'), join(dir, 'foo.tar.gz'));
    const got = await verdictFor(context, url, filesOf(vectors, 'demo', { inspections: false, product: join(dir, 'foo.tar.gz') }), shots && join(shots, 'web-product.png'));
    expect(got.result === 'fail', 'expected a failure', got);
    expect(got.text.includes('foo.tar.gz is NOT what the chain produced') && got.text.includes('INSPECTIONS_SKIPPED'), 'expected the product mismatch and the skip', got);
  }],
  ['a layout signed by someone else is refused', async ({ context, url, vectors }) => {
    const got = await verdictFor(context, url, filesOf(vectors, 'demo-layout-tampered'));
    expect(got.result === 'fail' && got.text.includes('SIGNATURE'), 'expected a signature failure', got);
  }],
];
