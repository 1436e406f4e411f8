/**
 * In-toto documents for suites that build chains with the library itself (verify, hostile): a layout's and a
 * link's `signed` object from a few fields, and one signed into a Metablock or DSSE envelope. Suites that
 * need other defaults (a readme, byproducts) pass them; the documents are otherwise the same everywhere.
 */
import { createDsse, createMetablock, serializeEnvelope, signEnvelope } from '../../bindings/metadata/envelope.js';
import { keyToDict, type PrivateKey } from '../../bindings/keys/keys.js';

export interface StepDef {
  name: string;
  keys: PrivateKey[];
  threshold?: number;
  materials?: string[][];
  products?: string[][];
  command?: string[];
}

/** A layout of `steps` (their keys in `keys`), far from expiry; `extra` adds or replaces top-level fields. */
export function layoutDoc(steps: StepDef[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  for (const s of steps) for (const k of s.keys) keys[k.keyid] = keyToDict(k.publicKey);
  return {
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: '',
    keys,
    steps: steps.map((s) => ({
      _type: 'step',
      name: s.name,
      threshold: s.threshold ?? 1,
      pubkeys: s.keys.map((k) => k.keyid),
      expected_command: s.command ?? [],
      expected_materials: s.materials ?? [],
      expected_products: s.products ?? [],
    })),
    inspect: [],
    ...extra,
  };
}

/** A link of step `name`. */
export function linkDoc(
  name: string,
  materials: Record<string, object> = {},
  products: Record<string, object> = {},
  command: string[] = [],
  byproducts: Record<string, unknown> = {},
): Record<string, unknown> {
  return { _type: 'link', name, command, materials, products, byproducts, environment: {} };
}

/** `doc` signed by `key`, as the bytes of a Metablock (or, with `dsse`, a DSSE envelope). */
export async function signDoc(doc: Record<string, unknown>, key: PrivateKey, dsse = false): Promise<Uint8Array> {
  return serializeEnvelope(await signEnvelope(dsse ? createDsse(doc) : createMetablock(doc), key));
}
