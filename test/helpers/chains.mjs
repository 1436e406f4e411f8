// The supply chains the reference-backed suites build, as data: one definition for the vitest suites
// (test/verify/verify-reference.test.ts through test/helpers/scenario.ts) and for the conformance vector
// generator (test/conformance/generate.mjs, plain Node). Keys are the suites' own `{ keyid, path, type }`.

/** A layout spec's steps and inspections as python's Layout.read takes them (ids for keys, defaults filled in). */
export function layoutDocParts(spec) {
  const keys = new Map();
  for (const step of spec.steps) for (const k of step.pubkeys) keys.set(k.keyid, k);
  const steps = spec.steps.map((s) => ({
    _type: 'step',
    name: s.name,
    pubkeys: s.pubkeys.map((k) => k.keyid),
    threshold: s.threshold ?? 1,
    expected_command: s.expected_command ?? [],
    expected_materials: s.expected_materials ?? [],
    expected_products: s.expected_products ?? [],
  }));
  const inspect = (spec.inspect ?? []).map((i) => ({
    _type: 'inspection',
    name: i.name,
    run: i.run,
    expected_materials: i.expected_materials ?? [],
    expected_products: i.expected_products ?? [],
  }));
  return { steps, inspect, keys: [...keys.values()] };
}

/** The in-toto demo's inspection: unpack foo.tar.gz and compare it with the chain; `allow` lists the other files the client holds. */
export function demoInspection(allow = ['root.layout']) {
  const others = allow.map((f) => ['ALLOW', f]);
  return {
    name: 'untar',
    run: ['tar', 'xzf', 'foo.tar.gz'],
    expected_materials: [['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ...others, ['DISALLOW', '*']],
    expected_products: [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ...others, ['DISALLOW', '*']],
  };
}

/** The in-toto demo: bob writes foo.py, carol packages it, the client unpacks and compares. */
export function demoLayoutSpec(keys, extra = {}, allow = ['root.layout']) {
  return {
    steps: [
      { name: 'write-code', pubkeys: [keys.bob], expected_command: ['vi'], expected_products: [['CREATE', 'foo.py'], ['DISALLOW', '*']] },
      {
        name: 'package',
        pubkeys: [keys.carol],
        expected_command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'],
        expected_materials: [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['DISALLOW', '*']],
        expected_products: [['CREATE', 'foo.tar.gz'], ['ALLOW', 'foo.py'], ['DISALLOW', '*']],
      },
    ],
    inspect: [demoInspection(allow)],
    signers: [keys.owner],
    ...extra,
  };
}

/** Step 'build' of the root layout delegated to alice's sublayout: compile (bob), check (erin); release (carol). */
export function sublayoutSpecs(keys) {
  return {
    sub: {
      steps: [
        { name: 'compile', pubkeys: [keys.bob], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] },
        { name: 'check', pubkeys: [keys.erin], expected_materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'compile'], ['DISALLOW', '*']], expected_products: [['ALLOW', 'app']] },
      ],
      signers: [keys.alice],
    },
    root: {
      steps: [
        { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] },
        { name: 'release', pubkeys: [keys.carol], expected_materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
      ],
      signers: [keys.owner],
    },
  };
}
