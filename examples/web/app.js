// A person drops a layout, the owner's key, the links and the product; the page verifies the supply chain
// with in-toto-wasm (the package's browser entry: engine.wasm fetched and compiled on first use, signatures
// by WebCrypto) and explains the verdict: each failure with its rule, artifacts and digests, then whether the
// product in hand is the one the chain produced.
import { initEngine, loadPublicKey, readEnvelope, verify } from 'in-toto-wasm';

const drop = document.getElementById('drop');
const input = document.getElementById('files');
const given = document.getElementById('given');
const out = document.getElementById('verdict');

drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  handle([...event.dataTransfer.files]);
});
input.addEventListener('change', () => handle([...input.files]));

/** An element with text and children: the page never puts file contents into HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Sorts the dropped files by what they are; the layout is recognised by its content, not only its name. */
async function classify(files) {
  const sorted = { layout: undefined, keys: [], links: new Map(), products: [], unknown: [] };
  for (const file of files) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // A file dropped with its folder keeps its path below the folder (sublayout links live in subfolders).
    const path = file.webkitRelativePath ? file.webkitRelativePath.split('/').slice(1).join('/') : file.name;
    const item = { name: path, bytes };
    if (/\.(pub|pem)$/i.test(file.name)) sorted.keys.push(item);
    else if (/\.link$/i.test(file.name)) sorted.links.set(path, bytes);
    else if (/\.layout$/i.test(file.name)) sorted.layout = item;
    else sorted.products.push(item);
  }
  return sorted;
}

async function handle(files) {
  out.dataset.state = 'working';
  out.replaceChildren(el('p', {}, 'Verifying…'));
  try {
    await initEngine();
    const sorted = await classify(files);
    showInputs(sorted);
    if (!sorted.layout) throw new Error('No layout: drop the .layout file too.');
    if (sorted.keys.length === 0) throw new Error("No public key: drop the project owner's key (.pub or .pem), the one you trust to have signed the layout.");
    const layoutKeys = sorted.keys.map((k) => loadPublicKey(k.bytes));

    // Inspections cannot run in a browser: use the pre-recorded links dropped for them, or skip them openly.
    const layout = readEnvelope(sorted.layout.bytes).signed;
    const inspectionNames = (layout.inspect ?? []).map((i) => i.name);
    const recorded = new Map(inspectionNames.filter((n) => sorted.links.has(`${n}.link`)).map((n) => [`${n}.link`, sorted.links.get(`${n}.link`)]));
    const inspections = inspectionNames.length === 0 || recorded.size < inspectionNames.length ? 'skip' : { links: recorded };

    const verdict = await verify({ layout: sorted.layout.bytes, layoutKeys, links: sorted.links, inspections });
    const products = verdict.passed ? await checkProducts(verdict, sorted.products) : [];
    show(verdict, products, layout, inspections === 'skip' ? inspectionNames : []);
  } catch (error) {
    out.dataset.state = 'done';
    out.dataset.result = 'error';
    out.replaceChildren(el('h2', { class: 'bad' }, 'Could not verify'), el('p', {}, error.message), error.code ? el('p', { class: 'code' }, error.code) : undefined);
  }
}

function showInputs(sorted) {
  document.getElementById('inputs').hidden = false;
  given.replaceChildren(
    el('li', {}, 'layout: ', el('code', {}, sorted.layout?.name ?? 'none')),
    el('li', {}, `trusted key${sorted.keys.length === 1 ? '' : 's'}: `, ...sorted.keys.map((k) => el('code', {}, k.name))),
    el('li', {}, `${sorted.links.size} link${sorted.links.size === 1 ? '' : 's'}: `, ...[...sorted.links.keys()].map((n) => el('code', {}, n))),
    el('li', {}, `product${sorted.products.length === 1 ? '' : 's'}: `, ...sorted.products.map((p) => el('code', {}, p.name))),
  );
}

/** Each dropped product against the digests the chain's last step recorded for it. */
async function checkProducts(verdict, products) {
  const recorded = verdict.summary?.products ?? {};
  return Promise.all(
    products.map(async (p) => {
      const found = await sha256(p.bytes);
      const expected = recorded[p.name]?.sha256;
      return { name: p.name, found, expected, ok: expected === found };
    }),
  );
}

function digestLine(label, digests) {
  return el('div', { class: 'digest' }, el('span', {}, label), ...Object.entries(digests).map(([alg, hex]) => el('code', {}, `${alg}:${hex}`)));
}

function show(verdict, products, layout, skipped) {
  const productsOk = products.length > 0 && products.every((p) => p.ok);
  const passed = verdict.passed && productsOk;
  out.dataset.state = 'done';
  out.dataset.result = passed ? 'pass' : 'fail';
  const parts = [];
  if (passed) {
    parts.push(el('h2', { class: 'good' }, 'PASSED: this release is what the supply chain produced'));
  } else if (verdict.passed) {
    parts.push(el('h2', { class: 'bad' }, products.length === 0 ? 'NOT VERIFIED: no product to check' : 'FAILED: the product is not what the supply chain produced'));
  } else {
    parts.push(el('h2', { class: 'bad' }, `FAILED: ${verdict.failures.length} problem${verdict.failures.length === 1 ? '' : 's'} in the supply chain`));
  }
  parts.push(el('p', {}, `Layout with ${layout.steps.length} step${layout.steps.length === 1 ? '' : 's'} (${layout.steps.map((s) => s.name).join(', ')}), expires ${layout.expires}.`));

  if (verdict.failures.length > 0) {
    parts.push(
      el('ol', { class: 'failures' }, ...verdict.failures.map((f) =>
        el('li', {},
          el('span', { class: 'code' }, f.code), ' ', f.message,
          f.rule ? el('div', {}, 'rule: ', el('code', {}, f.rule)) : undefined,
          ...(f.digests ?? []).map((d) => el('div', { class: 'mismatch' },
            el('b', {}, d.artifact),
            d.expected ? digestLine(`expected (${d.source})`, d.expected) : el('div', {}, `not in ${d.source}`),
            digestLine('found', d.found))),
        ),
      )),
    );
  }
  if (verdict.passed) {
    parts.push(el('ul', { class: 'products' }, ...products.map((p) =>
      el('li', { class: p.ok ? 'good' : 'bad' },
        el('b', {}, p.name), p.ok ? ' is what the chain produced' : p.expected ? ' is NOT what the chain produced' : ' was not produced by this supply chain',
        p.expected ? digestLine('chain', { sha256: p.expected }) : undefined,
        digestLine('yours', { sha256: p.found })),
    )));
  }
  for (const w of verdict.warnings) parts.push(el('p', { class: 'warning' }, el('span', { class: 'code' }, w.code), ' ', w.message));
  if (skipped.length > 0) {
    parts.push(el('p', { class: 'warning' }, `Inspections (${skipped.join(', ')}) cannot run in a browser and were skipped; drop their pre-recorded links to check them. The product was checked against the chain instead.`));
  }
  out.replaceChildren(...parts);
}
