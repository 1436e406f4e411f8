/**
 * Verifies a directory the way a person receives a release: the layout, the owner's public key, the links,
 * and the product files, all in one place. Deno, with only read access:
 *
 *   deno run --allow-read verify-dir.ts DIR --layout-key owner.pub [--layout root.layout] [--key-type ed25519]
 *            [--link-dir .] [--inspection-links DIR | --skip-inspections] [--json]
 *
 * Paths are relative to DIR. Exit codes as in-toto-verify: 0 verified, 1 not verified, 2 wrong arguments.
 * Deno cannot be asked to run a layout's inspections here (that would need --allow-run and trust in the
 * commands): give the inspections' links as recorded by whoever ran them, or skip them explicitly. Either way,
 * every file in DIR that the chain's last step produced is checked against the digests it recorded.
 */
import { initEngine, loadPublicKey, verify, type Failure, type KeyType, type Verdict } from 'in-toto-wasm';

interface Options {
  dir: string;
  layout: string;
  layoutKeys: string[];
  keyType?: KeyType;
  linkDir: string;
  inspectionLinks?: string;
  skipInspections: boolean;
  json: boolean;
}

function usage(message: string): never {
  console.error(`verify-dir: ${message}\nusage: verify-dir.ts DIR --layout-key KEY [--layout root.layout] [--key-type TYPE] [--link-dir DIR] [--inspection-links DIR | --skip-inspections] [--json]`);
  Deno.exit(2);
}

function parseArgs(args: string[]): Options {
  const options: Partial<Options> & { layoutKeys: string[] } = { layout: 'root.layout', layoutKeys: [], linkDir: '.', skipInspections: false, json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => args[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--layout') options.layout = value();
    else if (arg === '--layout-key') options.layoutKeys.push(value());
    else if (arg === '--key-type') options.keyType = value() as KeyType;
    else if (arg === '--link-dir') options.linkDir = value();
    else if (arg === '--inspection-links') options.inspectionLinks = value();
    else if (arg === '--skip-inspections') options.skipInspections = true;
    else if (arg === '--json') options.json = true;
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (options.dir === undefined) options.dir = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (options.dir === undefined) usage('which directory?');
  if (options.layoutKeys.length === 0) usage('--layout-key is required: the project owner key you trust');
  if (options.skipInspections && options.inspectionLinks) usage('--inspection-links and --skip-inspections exclude each other');
  return options as Options;
}

/** A path inside `root`, refusing any that would leave it (step names come from the layout). */
function inside(root: string, relative: string): string {
  const parts: string[] = [];
  for (const part of relative.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' || part.includes('\\')) throw new Error(`path ${JSON.stringify(relative)} leaves ${root}`);
    parts.push(part);
  }
  return [root.replace(/\/+$/, ''), ...parts].join('/');
}

/** A link loader over a directory: a file that is not there is simply not found. */
function directory(root: string) {
  return async (path: string): Promise<Uint8Array | undefined> => {
    try {
      return await Deno.readFile(inside(root, path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface ProductCheck {
  path: string;
  expected: string;
  found?: string;
  ok: boolean;
}

/** Every product of the chain's last step that has a sha256, compared with the file in `dir`. */
async function checkProducts(dir: string, verdict: Verdict): Promise<ProductCheck[]> {
  const checks: ProductCheck[] = [];
  for (const [path, digests] of Object.entries(verdict.summary?.products ?? {})) {
    const expected = digests.sha256;
    if (expected === undefined) continue;
    const bytes = await directory(dir)(path);
    if (bytes === undefined) continue; // not delivered here: nothing to compare
    const found = await sha256(bytes);
    checks.push({ path, expected, found, ok: found === expected });
  }
  return checks;
}

function explain(failure: Failure): string {
  const lines = [`  [${failure.code}] ${failure.message}`];
  for (const d of failure.digests ?? []) {
    lines.push(`      ${d.artifact}`);
    if (d.expected) lines.push(`        expected ${Object.entries(d.expected).map(([a, h]) => `${a}:${h}`).join(' ')} (${d.source})`);
    lines.push(`        found    ${Object.entries(d.found).map(([a, h]) => `${a}:${h}`).join(' ')}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const options = parseArgs(Deno.args);
  await initEngine();
  const read = (path: string) => Deno.readFile(inside(options.dir, path));
  const layoutKeys = await Promise.all(
    options.layoutKeys.map(async (file) => loadPublicKey(await read(file), options.keyType ? { keyType: options.keyType } : {})),
  );
  const verdict = await verify({
    layout: await read(options.layout),
    layoutKeys,
    links: directory(inside(options.dir, options.linkDir)),
    inspections: options.skipInspections ? 'skip' : { links: directory(inside(options.dir, options.inspectionLinks ?? '.')) },
  });
  const products = verdict.passed ? await checkProducts(options.dir, verdict) : [];
  const passed = verdict.passed && products.every((p) => p.ok);

  if (options.json) {
    console.log(JSON.stringify({ passed, failures: verdict.failures, warnings: verdict.warnings, products }, null, 2));
    return passed ? 0 : 1;
  }
  for (const warning of verdict.warnings) console.error(`warning: [${warning.code}] ${warning.message}`);
  if (!verdict.passed) {
    console.error(`verify-dir: ${options.dir}: verification FAILED (${verdict.failures.length} problem${verdict.failures.length === 1 ? '' : 's'})`);
    for (const failure of verdict.failures) console.error(explain(failure));
    return 1;
  }
  for (const p of products) {
    if (p.ok) console.log(`  ${p.path}: sha256 ${p.found} is what the chain produced`);
    else console.error(`  ${p.path}: NOT what the chain produced\n    expected sha256:${p.expected}\n    found    sha256:${p.found}`);
  }
  if (!passed) {
    console.error(`verify-dir: ${options.dir}: the supply chain verifies, but ${products.filter((p) => !p.ok).map((p) => p.path).join(', ')} is not its product`);
    return 1;
  }
  console.log(`verify-dir: ${options.dir}: verified (${products.length} product file${products.length === 1 ? '' : 's'} checked)`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
