#!/usr/bin/env node
// The conformance suite, the cold start and the web example in headless Chromium: Debian's /usr/bin/chromium
// (apt-get install -y chromium) driven by playwright-core, which never downloads a browser of its own. The
// packed package is served from 127.0.0.1 by a small node server; pages import it through an import map
// resolved from its `exports` map under the `browser` condition. Prints `chromium: N passed, N failed[, N
// skipped]` and exits non-zero on any failure.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appPath, finish, medians, moduleGraph, prepareApp, resolvePackage, serve, tally, tempDir, PACKAGE } from './app.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const CONDITIONS = ['browser', 'import', 'default'];

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  finish('chromium', { passed: 0, failed: 1 });
}
const { chromium } = await import('playwright-core');

const app = await prepareApp();

// The import map a bundler-less page needs: the package's browser entry and every bare specifier under it.
const entry = resolvePackage(app, PACKAGE, CONDITIONS);
const sigstoreEntry = resolvePackage(app, `${PACKAGE}/sigstore`, CONDITIONS);
const attestationsEntry = resolvePackage(app, `${PACKAGE}/attestations`, CONDITIONS);
const graph = moduleGraph(app, [entry, sigstoreEntry, attestationsEntry], CONDITIONS);
const importMap = {
  imports: {
    [PACKAGE]: `/${appPath(app, entry)}`,
    [`${PACKAGE}/sigstore`]: `/${appPath(app, sigstoreEntry)}`,
    [`${PACKAGE}/attestations`]: `/${appPath(app, attestationsEntry)}`,
    ...Object.fromEntries([...graph.bare].map(([spec, file]) => [spec, `/${appPath(app, file)}`])),
  },
};
const server = await serve(app, (path, bytes) =>
  path.startsWith('/test/runtimes/browser/') && path.endsWith('.html')
    ? Buffer.from(bytes.toString('utf8').replace('<!-- importmap -->', `<script type="importmap">${JSON.stringify(importMap)}</script>`))
    : bytes,
);

/** A browser with a new, empty profile. */
async function launch() {
  return chromium.launchPersistentContext(tempDir('chromium-profile-'), { executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** Opens `path` and waits for `window[key]`; page errors and failed requests are reported. */
async function run(context, path, key, timeout = 120_000) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  await page.goto(`${server.url}${path}`);
  try {
    await page.waitForFunction((k) => window[k] !== undefined, key, { timeout });
  } catch (error) {
    throw new Error(`${path}: no result (${error.message}); ${problems.join('; ')}`);
  }
  return { page, value: await page.evaluate((k) => window[k], key), problems };
}

const { counts, check, suite, examples } = tally();

let context = await launch();
try {
  console.log(`Chromium ${context.browser()?.version() ?? ''}, ${PACKAGE} browser entry ${appPath(app, entry)}`);

  // Cold start first, each in a fresh profile: nothing cached, nothing compiled. The median of three.
  const colds = [];
  for (let i = 0; i < 3; i++) {
    const { value } = await run(context, '/test/runtimes/browser/cold.html', '__cold');
    colds.push(value);
    await context.close();
    context = await launch();
  }
  const coldError = colds.find((c) => c.error)?.error;
  check('cold start: import, engine, first verification of the demo chain', !coldError, coldError);
  const cold = { value: coldError ? { error: coldError } : medians(colds) };

  const { value: result, problems } = await run(context, '/test/runtimes/browser/conformance.html', '__result');
  if (result.error) {
    check('conformance suite', false, result.error);
  } else {
    suite(result.results);
  }
  // The `node` backend's probe fails to load node:crypto in a browser, as it should; anything else is news.
  const news = problems.filter((p) => !p.includes('node:crypto') && !p.includes('net::ERR_FAILED'));
  if (news.length > 0 || counts.failed > 0) console.log(news.join('\n'));

  // The web example: a person drops a layout, its links and the product, and reads the verdict.
  const example = join(app, 'examples/web/test.mjs');
  if (existsSync(example)) {
    const { exampleChecks } = await import(example);
    await examples(exampleChecks, 'web example: ', { context, url: server.url, vectors: join(app, 'test/conformance/vectors') });
  }
  if (cold.value && !cold.value.error) console.log(`cold start (chromium, median of 3 fresh profiles): ${JSON.stringify(cold.value)}`);
} catch (error) {
  check('chromium harness', false, error.stack ?? String(error));
} finally {
  await context.close();
  await server.close();
}
finish('chromium', counts);
