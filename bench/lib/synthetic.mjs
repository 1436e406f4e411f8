// Synthetic in-toto links for the micro-benchmarks, written as the reference writes them (a Metablock,
// json.dumps(indent=1, sort_keys=True)) or with every object's keys shuffled. Deterministic.
import { createHash } from 'node:crypto';

/** mulberry32: a small seedable PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function artifactPath(i, dirs = 256) {
  return `src/d${i % dirs}/file${i}.c`;
}

export function digest(i, salt = '') {
  return createHash('sha256').update(`${salt}${i}`).digest('hex');
}

/** `count` artifacts, path -> { sha256 }, in code point order of their paths. */
export function artifacts(count, salt = '') {
  const entries = [];
  for (let i = 0; i < count; i++) entries.push([artifactPath(i), { sha256: digest(i, salt) }]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries;
}

function shuffled(list, random) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Rebuilds every object of a JSON value with its keys sorted (the reference's form) or shuffled. */
function reorder(value, order, random) {
  if (Array.isArray(value)) return value.map((v) => reorder(v, order, random));
  if (value === null || typeof value !== 'object') return value;
  let keys = Object.keys(value).sort();
  if (order === 'shuffled') keys = shuffled(keys, random);
  const out = {};
  for (const k of keys) out[k] = reorder(value[k], order, random);
  return out;
}

/**
 * A signed link (Metablock) with the given materials and products (lists of [path, digests]); `order` is
 * 'sorted' (as the reference writes files) or 'shuffled'. Returns the file's bytes.
 */
export function linkFile({ name = 'build', materials, products, command = [], byproducts = {}, order = 'sorted', seed = 1 }) {
  const random = rng(seed);
  const signed = {
    _type: 'link', name, command, byproducts, environment: {},
    materials: Object.fromEntries(materials), products: Object.fromEntries(products),
  };
  const doc = {
    signatures: [{ keyid: 'a'.repeat(64), sig: 'b'.repeat(128) }],
    signed,
  };
  return new TextEncoder().encode(JSON.stringify(reorder(doc, order, random), null, 1));
}

/** A link shaped like the demo's `package` link (about 1 KB): one material, two products, tar's output. */
export function smallLink(order = 'sorted') {
  return linkFile({
    name: 'package',
    command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'],
    byproducts: { 'return-value': 0, stderr: '', stdout: 'foo.py\n' },
    materials: [['foo.py', { sha256: digest('foo.py') }]],
    products: [['foo.py', { sha256: digest('foo.py') }], ['foo.tar.gz', { sha256: digest('foo.tar.gz') }]],
    order,
  });
}

/** A link with `n` artifacts on each side (the same files as materials and products, as in-toto-run -m src -p src). */
export function largeLink(n, order = 'sorted', name = 'build') {
  const list = artifacts(n);
  return linkFile({ name, materials: list, products: list, order, seed: n });
}
