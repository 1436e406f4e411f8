/**
 * The supply-chain picture: the SVG is parsed as XML (python's ElementTree, a strict parser) and checked for
 * its nodes, edges and labels, before and after a real verification of the demo chain (links recorded by the
 * reference's in-toto-run, the product tampered with); then opened in headless Chromium (Debian's, driven by
 * playwright-core), which renders it, shows every box's text inside its box, and runs the same module in
 * the browser to the same output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { serializeEnvelope } from '../../bindings/metadata/envelope.js';
import { chainGraph, renderChainSvg, verdictToSvg, xmlEscape } from '../../bindings/layout/graph.js';
import { nodeInspectionRunner } from '../../bindings/record/inspect-node.js';
import { loadPublicKey, type PrivateKey, type PublicKey } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { LayoutBuilder, signLayout } from '../../bindings/layout/layout-builder.js';
import { layoutToJSON, type Layout } from '../../bindings/metadata/models.js';
import { verify, type Verdict } from '../../bindings/verify/verify.js';
import { assertReferenceInstalled, makeTempDir, runPython } from '../helpers/reference.js';
import { copyInto, makeKey, referenceRun, write, type KeyFile } from '../helpers/scenario.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAYOUT_CLI = join(ROOT, 'dist/cli/in-toto-layout.js');
const VERIFY_CLI = join(ROOT, 'dist/cli/in-toto-verify.js');

interface ParsedSvg {
  root: string;
  width: number;
  height: number;
  header: string[];
  nodes: { id: string; name: string; kind: string; status: string; class: string[]; texts: string[]; rects: number }[];
  edges: { from: string; to: string; status: string; class: string[]; texts: string[]; paths: number }[];
}

/** Parses the SVG with python's XML parser (strict: malformed XML raises) and lists nodes, edges and texts. */
function parseSvg(svg: string): ParsedSvg {
  return JSON.parse(
    runPython(
      `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
NS = '{http://www.w3.org/2000/svg}'
def texts(e): return [''.join(t.itertext()) for t in e.iter(NS + 'text')]
out = {'root': root.tag, 'width': float(root.get('width')), 'height': float(root.get('height')), 'header': [], 'nodes': [], 'edges': []}
for g in root.iter(NS + 'g'):
    cls = (g.get('class') or '').split()
    if 'node' in cls:
        out['nodes'].append({'id': g.get('id'), 'name': g.get('data-name'), 'kind': g.get('data-kind'), 'status': g.get('data-status'),
                             'class': cls, 'texts': texts(g), 'rects': len(g.findall(NS + 'rect'))})
    if 'edge' in cls:
        out['edges'].append({'from': g.get('data-from'), 'to': g.get('data-to'), 'status': g.get('data-status'), 'class': cls,
                             'texts': texts(g), 'paths': len(g.findall(NS + 'path'))})
    if 'header' in cls:
        out['header'] = texts(g)
print(json.dumps(out))
`,
      svg,
    ).toString(),
  );
}

interface Demo {
  dir: string;
  keyFiles: Record<'owner' | 'bob' | 'carol', KeyFile>;
  owner: PrivateKey;
  bob: PublicKey;
  carol: PublicKey;
  layout: Layout;
  layoutBytes: Uint8Array;
  keyNames: Map<string, string>;
}

let demo: Demo;

function demoLayout(bob: PublicKey, carol: PublicKey): Layout {
  return new LayoutBuilder()
    .readme('in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks')
    .expires('2099-01-01T00:00:00Z')
    .step('write-code', (s) => s.functionaries(bob).command('vi').products('CREATE foo.py', 'DISALLOW *'))
    .step('package', (s) =>
      s.functionaries(carol).command('tar zcvf foo.tar.gz foo.py')
        .materials('MATCH foo.py WITH PRODUCTS FROM write-code', 'DISALLOW *')
        .products('CREATE foo.tar.gz', 'ALLOW foo.py', 'DISALLOW *'),
    )
    .inspection('untar', (i) =>
      i.run('tar xzf foo.tar.gz')
        .materials('MATCH foo.tar.gz WITH PRODUCTS FROM package', 'ALLOW owner.pub', 'ALLOW root.layout', 'DISALLOW *')
        .products('MATCH foo.py WITH PRODUCTS FROM write-code', 'MATCH foo.tar.gz WITH PRODUCTS FROM package', 'ALLOW owner.pub', 'ALLOW root.layout', 'DISALLOW *'),
    )
    .build();
}

/** The demo chain recorded with the reference's tools; the client directory, tampered with or not. */
function client(tamper: boolean): string {
  const work = makeTempDir('in-toto-graph-work-');
  write(work, 'foo.py', 'print("hello world")\n');
  referenceRun(work, 'write-code', demo.keyFiles.bob, { products: ['foo.py'] });
  referenceRun(work, 'package', demo.keyFiles.carol, { materials: ['foo.py'], products: ['foo.tar.gz'], command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'] });
  const dir = makeTempDir('in-toto-graph-client-');
  writeFileSync(join(dir, 'root.layout'), demo.layoutBytes);
  copyInto(`${demo.keyFiles.owner.path}.pub`, join(dir, 'owner.pub'));
  for (const f of [`write-code.${demo.bob.keyid.slice(0, 8)}.link`, `package.${demo.carol.keyid.slice(0, 8)}.link`, 'foo.tar.gz']) copyInto(join(work, f), join(dir, f));
  if (tamper) {
    write(work, 'foo.py', 'print("pwned")\n');
    spawnSync('tar', ['zcf', join(dir, 'foo.tar.gz'), 'foo.py'], { cwd: work });
  }
  return dir;
}

async function verifyClient(dir: string): Promise<Verdict> {
  return verify({
    layout: readFileSync(join(dir, 'root.layout')),
    layoutKeys: [demo.owner.publicKey],
    links: { directory: dir },
    inspections: { run: nodeInspectionRunner({ cwd: dir }) },
  });
}

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  const dir = makeTempDir('in-toto-graph-keys-');
  const keyFiles = { owner: makeKey(dir, 'owner', 'ed25519'), bob: makeKey(dir, 'bob', 'ed25519'), carol: makeKey(dir, 'carol', 'rsa') };
  const bob = loadPublicKey(readFileSync(`${keyFiles.bob.path}.pub`), { keyType: 'ed25519' });
  const carol = loadPublicKey(readFileSync(`${keyFiles.carol.path}.pub`), { keyType: 'rsa' });
  const owner = await loadPrivateKey(readFileSync(keyFiles.owner.path), { keyType: 'ed25519' });
  const layout = demoLayout(bob, carol);
  const layoutBytes = serializeEnvelope(await signLayout(layout, [owner]));
  demo = { dir, keyFiles, owner, bob, carol, layout, layoutBytes, keyNames: new Map([[bob.keyid, 'bob'], [carol.keyid, 'carol']]) };
});

describe('renderChainSvg: structure', () => {
  it('draws steps and inspections as boxes, MATCH flows as arrows, functionaries and commands as labels', () => {
    const svg = renderChainSvg(demo.layout, { keyNames: demo.keyNames });
    const parsed = parseSvg(svg);
    expect(parsed.root).toBe('{http://www.w3.org/2000/svg}svg');
    expect(parsed.nodes.map((n) => [n.name, n.kind, n.status])).toEqual([
      ['write-code', 'step', 'unverified'],
      ['package', 'step', 'unverified'],
      ['untar', 'inspection', 'unverified'],
    ]);
    for (const n of parsed.nodes) expect(n.rects).toBe(1);
    const node = (name: string) => parsed.nodes.find((n) => n.name === name)!;
    expect(node('write-code').texts).toEqual(expect.arrayContaining(['write-code', 'step by bob', '$ vi', 'products', '1 CREATE foo.py', '2 DISALLOW *']));
    expect(node('package').texts).toEqual(expect.arrayContaining(['step by carol', '$ tar zcvf foo.tar.gz foo.py', '1 MATCH foo.py WITH PRODUCTS FROM write-code']));
    expect(node('untar').texts).toEqual(expect.arrayContaining(['inspection, run by the verifier', '$ tar xzf foo.tar.gz']));

    const edges = parsed.edges.map((e) => [e.from, e.to, e.texts]);
    expect(edges).toEqual(
      expect.arrayContaining([
        ['write-code', 'package', ['foo.py  (products → materials)']],
        ['package', 'untar', ['foo.tar.gz  (products → materials)', 'foo.tar.gz  (products → products)']],
        ['write-code', 'untar', ['foo.py  (products → products)']],
      ]),
    );
    expect(parsed.edges).toHaveLength(3);
    for (const e of parsed.edges) expect(e.paths).toBe(1);
    expect(parsed.header).toEqual(expect.arrayContaining(['in-toto supply chain', 'layout expires 2099-01-01T00:00:00Z · 2 steps, 1 inspection']));
  });

  it('shows thresholds, key ids without names, back edges, MATCH rules that cannot see, and dangling ones', async () => {
    const ids = ['a1'.repeat(32), 'b2'.repeat(32), 'c3'.repeat(32)];
    const layout = new LayoutBuilder()
      .expires('2099-01-01T00:00:00Z')
      .step('build', (s) => s.functionaries(...ids).threshold(2).materials('MATCH * WITH PRODUCTS FROM release', 'MATCH x WITH PRODUCTS FROM check', 'MATCH y WITH PRODUCTS FROM nowhere'))
      .step('release', (s) => s.functionaries(ids[0]!).materials('MATCH app WITH PRODUCTS FROM build'))
      .inspection('check', (i) => i.run('true'))
      .build();
    const parsed = parseSvg(renderChainSvg(layout));
    const build = parsed.nodes.find((n) => n.name === 'build')!;
    expect(build.texts).toContain('step by a1a1a1a1, b2b2b2b2, c3c3c3c3 · threshold 2 of 3');
    const back = parsed.edges.find((e) => e.from === 'release' && e.to === 'build')!;
    expect(back.texts).toEqual(['*  (products → materials)']);
    const invisible = parsed.edges.find((e) => e.from === 'check' && e.to === 'build')!;
    expect(invisible.class).toContain('invisible');
    expect(invisible.texts).toContain('never matches: step rules cannot see inspections');
    expect(parsed.header.some((t) => t.includes('MATCH naming no step or inspection: build: MATCH y WITH PRODUCTS FROM nowhere'))).toBe(true);
    // The inspection sits right of every step.
    const graph = chainGraph(layout);
    expect(graph.nodes.map((n) => [n.name, n.layer])).toEqual([['build', 0], ['release', 1], ['check', 2]]);
  });

  it('escapes whatever a layout holds: any name gives well-formed XML with the name intact', () => {
    const hostile = 'a<b>&"c\' ]]> <!-- x --> \u0001\u{1F4E6}';
    const layout = new LayoutBuilder()
      .expires('2099-01-01T00:00:00Z')
      .readme('<script>alert(1)</script>')
      .step(hostile, (s) => s.command('echo', '</text><text>', '&amp;').products(`CREATE ${JSON.stringify('<x>&')}`))
      .step('next', (s) => s.materials(['MATCH', '"*"&<', 'WITH', 'PRODUCTS', 'FROM', hostile]))
      .build();
    const svg = renderChainSvg(layout);
    expect(svg).not.toContain('<script>');
    const parsed = parseSvg(svg);
    const expected = hostile.replace('\u0001', '\ufffd');
    expect(parsed.nodes[0]!.name).toBe(expected);
    expect(parsed.nodes[0]!.texts[0]).toBe(expected);
    expect(parsed.edges[0]!.from).toBe(expected);
    expect(parsed.edges[0]!.texts[0]).toBe('"*"&<  (products → materials)');
    expect(xmlEscape('\ud800x\udfff')).toBe('\ufffdx\ufffd');
  });

  it('draws an empty layout', () => {
    const parsed = parseSvg(renderChainSvg(new LayoutBuilder().expires('2099-01-01T00:00:00Z').build()));
    expect(parsed.nodes).toEqual([]);
    expect(parsed.width).toBeGreaterThan(0);
  });
});

describe('after verification', () => {
  it('marks every item passed when the chain verifies', async () => {
    const verdict = await verifyClient(client(false));
    expect(verdict.passed).toBe(true);
    const parsed = parseSvg(verdictToSvg(demo.layoutBytes, verdict, { keyNames: demo.keyNames }));
    expect(parsed.nodes.map((n) => n.status)).toEqual(['passed', 'passed', 'passed']);
    expect(parsed.edges.every((e) => e.status === 'ok')).toBe(true);
    expect(parsed.header).toContain('verification PASSED');
    // The command bob did not run is a warning on his box.
    expect(parsed.nodes[0]!.texts.some((t) => t.startsWith('[COMMAND_MISMATCH]'))).toBe(true);
  });

  it('marks the failed inspection, its rule and the flow whose digests differ when the product was tampered with', async () => {
    const verdict = await verifyClient(client(true));
    expect(verdict.passed).toBe(false);
    const parsed = parseSvg(verdictToSvg(demo.layoutBytes, verdict, { keyNames: demo.keyNames }));
    const untar = parsed.nodes.find((n) => n.name === 'untar')!;
    expect(untar.status).toBe('failed');
    expect(untar.class).toContain('failed');
    expect(untar.texts[0]).toBe('✗ untar');
    expect(untar.texts).toContain('✗ 4 DISALLOW *');
    expect(untar.texts.some((t) => t.startsWith('RULE_DISALLOW') && t.includes('foo.tar.gz'))).toBe(true);
    expect(parsed.nodes.filter((n) => n.kind === 'step').map((n) => n.status)).toEqual(['passed', 'passed']);
    const flow = parsed.edges.find((e) => e.from === 'package' && e.to === 'untar')!;
    expect(flow.status).toBe('failed');
    expect(flow.texts).toContain('✗ foo.tar.gz  (products → materials)');
    expect(parsed.edges.find((e) => e.from === 'write-code' && e.to === 'package')!.status).toBe('ok');
    expect(parsed.header.some((t) => /^verification FAILED \(\d+ problems?\)$/.test(t))).toBe(true);
  });

  it('marks missing links on the step, and layout-wide failures in the header', () => {
    const verdict: Verdict = {
      passed: false,
      failures: [
        { code: 'LAYOUT_EXPIRED', message: 'the layout expired at 2020-01-01T00:00:00Z', layout: [] },
        { code: 'LINK_MISSING', message: "step 'package' needs links from 1 authorized functionary, found 0 valid", layout: [], step: 'package' },
        { code: 'THRESHOLD', message: 'inside the sublayout', layout: ['write-code'], step: 'inner' },
      ],
      warnings: [{ code: 'INSPECTIONS_SKIPPED', message: 'skipped', layout: [] }],
      trace: [],
    };
    const parsed = parseSvg(renderChainSvg(demo.layout, { verdict }));
    expect(parsed.nodes.map((n) => n.status)).toEqual(['failed', 'failed', 'skipped']);
    // Long messages wrap over several lines of the box.
    expect(parsed.nodes[1]!.texts.join(' ')).toContain('[LINK_MISSING] needs links from 1 authorized functionary, found 0 valid');
    expect(parsed.header).toContain('[LAYOUT_EXPIRED] the layout expired at 2020-01-01T00:00:00Z');
  });

  it('does not mark steps passed when the layout itself could not be trusted, and never throws on a bad layout', () => {
    const verdict: Verdict = { passed: false, failures: [{ code: 'SIGNATURE', message: 'no signature by key abc', layout: [] }], warnings: [], trace: [] };
    expect(parseSvg(verdictToSvg(demo.layoutBytes, verdict)).nodes.map((n) => n.status)).toEqual(['unchecked', 'unchecked', 'unchecked']);
    const broken = parseSvg(verdictToSvg(new TextEncoder().encode('{"signed": '), verdict));
    expect(broken.nodes).toEqual([]);
    expect(broken.header.some((t) => t.includes('cannot be drawn'))).toBe(true);
    expect(broken.header).toContain('[SIGNATURE] no signature by key abc');
  });
});

describe('in-toto-layout graph', () => {
  it('draws a layout file or a description, with a verdict from in-toto-verify --json', async () => {
    const dir = client(true);
    const verified = spawnSync(process.execPath, [VERIFY_CLI, '--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', 'ed25519', '--json', '-q'], { cwd: dir, encoding: 'utf8' });
    expect(verified.status).toBe(1);
    writeFileSync(join(dir, 'verdict.json'), verified.stdout);
    const drawn = spawnSync(process.execPath, [LAYOUT_CLI, 'graph', 'root.layout', '--verdict', 'verdict.json', '--key-name', `${demo.bob.keyid.slice(0, 8)}=bob`, '-o', 'chain.svg'], { cwd: dir, encoding: 'utf8' });
    expect(drawn.stderr).toContain('wrote chain.svg');
    expect(drawn.status).toBe(0);
    const parsed = parseSvg(readFileSync(join(dir, 'chain.svg'), 'utf8'));
    expect(parsed.nodes.find((n) => n.name === 'untar')!.status).toBe('failed');
    expect(parsed.nodes[0]!.texts).toContain('✓ write-code');
    expect(parsed.nodes[0]!.texts).toContain('step by bob');
    expect(parsed.nodes[1]!.texts).toContain(`step by ${demo.carol.keyid.slice(0, 8)}`);

    // To stdout, from a description (whose key names are used).
    copyInto(`${demo.keyFiles.bob.path}.pub`, join(dir, 'bob.pub'));
    write(dir, 'd.json', JSON.stringify({ keys: { bob: 'bob.pub' }, steps: [{ name: 'write-code', functionaries: ['bob'], products: ['CREATE foo.py', 'DISALLOW *'] }] }));
    const stdout = spawnSync(process.execPath, [LAYOUT_CLI, 'graph', 'd.json'], { cwd: dir, encoding: 'utf8' });
    expect(stdout.status).toBe(0);
    expect(parseSvg(stdout.stdout).nodes[0]!.texts).toContain('step by bob');
    expect(spawnSync(process.execPath, [LAYOUT_CLI, 'graph', 'root.layout', '--verdict', 'd.json'], { cwd: dir }).status).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Headless Chromium (Debian's), driven by playwright-core: never a downloaded browser.

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('in headless Chromium', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let browser: any;
  let profile: string;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run 'apt-get install -y chromium'`);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'in-toto-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    // dist/, build/ and the @noble dependencies served on the loopback interface, for the module test.
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
      const file = join(ROOT, path);
      if (path === '' || path === '.') {
        // As a page would load the package without a bundler: its two dependencies through an import map.
        const imports = { '@noble/ed25519': '/node_modules/@noble/ed25519/index.js', '@noble/hashes/': '/node_modules/@noble/hashes/' };
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>graph</title><script type="importmap">${JSON.stringify({ imports })}</script>`);
        return;
      }
      if (!(path.startsWith('dist/') || path.startsWith('build/') || path.startsWith('node_modules/@noble/')) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      const type = { '.js': 'text/javascript', '.wasm': 'application/wasm' }[extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('renders the chain: every box shows its text, inside its box, and boxes do not overlap', async () => {
    const verdict = await verifyClient(client(true));
    const svg = verdictToSvg(demo.layoutBytes, verdict, { keyNames: demo.keyNames });
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`);
    const size = await page.locator('svg').boundingBox();
    await page.setViewportSize({ width: Math.ceil(size.width), height: Math.ceil(size.height) });
    const shot: Buffer = await page.screenshot({ fullPage: true });
    const png = join(makeTempDir('in-toto-graph-shot-'), 'chain.png');
    writeFileSync(png, shot);
    expect(shot.length).toBeGreaterThan(10_000);

    // Text as the browser lays it out, per box.
    const boxes = await page.evaluate(() =>
      [...document.querySelectorAll('g.node')].map((g) => {
        const rect = g.querySelector('rect.box')!.getBoundingClientRect();
        return {
          name: g.getAttribute('data-name'),
          status: g.getAttribute('data-status'),
          rect: { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom },
          texts: [...g.querySelectorAll('text')].map((t) => {
            const r = t.getBoundingClientRect();
            return { text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
          }),
        };
      }),
    );
    expect(boxes.map((b: { name: string }) => b.name)).toEqual(['write-code', 'package', 'untar']);
    for (const box of boxes) {
      for (const t of box.texts) {
        expect(t.width, `${box.name}: "${t.text}" is rendered`).toBeGreaterThan(0);
        expect(t.left, `${box.name}: "${t.text}" starts inside its box`).toBeGreaterThanOrEqual(box.rect.left);
        expect(t.right, `${box.name}: "${t.text}" ends inside its box`).toBeLessThanOrEqual(box.rect.right);
        expect(t.bottom, `${box.name}: "${t.text}" is above the box's bottom`).toBeLessThanOrEqual(box.rect.bottom + 1);
      }
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].rect;
        const b = boxes[j].rect;
        expect(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top, `${boxes[i].name} and ${boxes[j].name} overlap`).toBe(true);
      }
    }
    // What a person reads on the page.
    const visible: string = await page.locator('svg').innerText().catch(() => page.evaluate(() => document.querySelector('svg')!.textContent));
    for (const text of ['write-code', 'package', 'untar', 'step by bob', 'step by carol', 'verification FAILED', '✗ 4 DISALLOW *']) {
      expect(visible).toContain(text);
    }
    expect(await page.locator('g.node[data-status="failed"]').count()).toBe(1);
    // The tampered tarball (materials) and the foo.py unpacked from it (products): two flows into untar.
    expect(await page.locator('g.edge[data-status="failed"]').evaluateAll((es: Element[]) => es.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`))).toEqual([
      'package>untar',
      'write-code>untar',
    ]);
    await page.close();
  });

  it('runs in the browser: the module loaded there draws the same SVG as in Node', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const json = layoutToJSON(demo.layout);
    const names = Object.fromEntries(demo.keyNames);
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const inBrowser: string = await page.evaluate(
      `import(${JSON.stringify(`${origin}/dist/layout/graph.js`)}).then((graph) => graph.renderChainSvg(${JSON.stringify(json)}, { keyNames: ${JSON.stringify(names)} }))`,
    );
    expect(inBrowser).toBe(renderChainSvg(json, { keyNames: demo.keyNames }));
    await page.close();
  });
});
