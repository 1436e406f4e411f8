/** RuleEngine.read: one engine pass gives a link's signed bytes, its small part as plain JSON, and its tables. */
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalize, initEngine } from '../../bindings/engine.js';
import { RuleEngine } from '../../bindings/verify/rule-engine.js';

const utf8 = new TextEncoder();

describe('RuleEngine.read', () => {
  beforeAll(() => initEngine());

  const materials: Record<string, unknown> = {};
  for (let i = 0; i < 2000; i++) materials[`src/${i % 7}/f${i}\u00e9.c`] = { sha256: i.toString(16).padStart(64, '0') };
  const signed = {
    _type: 'link', name: 'x\n"y', command: ['a\u0001b', 'tab\there'], byproducts: { stdout: 'l1\nl2\u001f\r', 'return-value': 0 }, environment: {},
    materials, products: { 'p\u0002"\\q': { sha256: 'ab'.repeat(32) }, __proto__x: { sha512: 'cd'.repeat(64) } },
  };
  const doc = utf8.encode(JSON.stringify({ signatures: [{ keyid: 'ab', sig: 'cd' }], signed }));

  it('returns the canonical signed bytes, the rest as plain JSON without artifacts, and the artifacts on request', () => {
    const rules = new RuleEngine();
    try {
      const { handle, canonical, lean } = rules.read(doc, 'signed', true);
      expect(canonical).toEqual(canonicalize(JSON.stringify(signed)));
      const parsed = JSON.parse(lean);
      expect(parsed).toEqual({ signatures: [{ keyid: 'ab', sig: 'cd' }], signed: { ...signed, materials: {}, products: {} } });
      expect(lean.length).toBeLessThan(400);
      expect(rules.artifacts(handle, 'materials')).toEqual(materials);
      expect(rules.artifacts(handle, 'products')).toEqual(signed.products);
    } finally {
      rules.close();
    }
  });

  it('reads a DSSE payload (the whole document is the link) without canonical bytes', () => {
    const rules = new RuleEngine();
    try {
      const { canonical, lean, handle } = rules.read(utf8.encode(JSON.stringify(signed)), 'whole', false);
      expect(canonical).toBeUndefined();
      expect(JSON.parse(lean)).toEqual({ ...signed, materials: {}, products: {} });
      expect(Object.keys(rules.artifacts(handle, 'materials'))).toHaveLength(2000);
    } finally {
      rules.close();
    }
  });

  it('refuses what load refuses, with the same errors', () => {
    const rules = new RuleEngine();
    try {
      expect(() => rules.read(utf8.encode('{"signed":{"a":1,"a":2}}'), 'signed', true)).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 9 }));
      expect(() => rules.read(utf8.encode('{"signed":{"materials":{"a":{"sha256":"xyz"}}}}'), 'signed', true)).toThrow(expect.objectContaining({ code: 'FORMAT', message: expect.stringContaining('hex digests') }));
      expect(() => rules.read(utf8.encode('{"payload":"x"}'), 'signed', true)).toThrow(expect.objectContaining({ code: 'FORMAT', field: 'signed' }));
    } finally {
      rules.close();
    }
  });
});
