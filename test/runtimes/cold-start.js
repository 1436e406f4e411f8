/**
 * Cold start, measured the same way in every runtime: from nothing loaded to the first verdict on the demo
 * chain (import the package, load the engine, read the keys, verify). The demo's files are read first and
 * not counted: how they arrive is the host's business.
 *
 * @param {() => Promise<any>} load   imports the package as this runtime resolves it
 * @param {(path: string) => Promise<Uint8Array>} read   reads a file under the conformance vectors
 * @param {() => number} now   a clock in milliseconds
 */
export async function coldStart(load, read, now) {
  const scenarios = JSON.parse(new TextDecoder().decode(await read('scenarios.json'))).scenarios;
  const demo = scenarios.find((s) => s.id === 'demo');
  const files = new Map(await Promise.all(demo.files.map(async (f) => [f, await read(`scenarios/demo/${f}`)])));
  const t0 = now();
  const lib = await load();
  const t1 = now();
  await lib.initEngine();
  const t2 = now();
  const links = new Map([...files].filter(([f]) => f.endsWith('.link') && !f.startsWith('inspections/')));
  const verdict = await lib.verify({
    layout: files.get(demo.layout),
    layoutKeys: demo.layoutKeys.map((k) => lib.loadPublicKey(files.get(k.file), { keyType: k.keyType })),
    links,
    inspections: { links: new Map([['untar.link', files.get('inspections/untar.link')]]) },
  });
  const t3 = now();
  if (!verdict.passed) throw new Error(`the demo chain did not verify: ${verdict.failures.map((f) => f.message).join('; ')}`);
  const ms = (x) => Math.round(x * 10) / 10;
  return { importMs: ms(t1 - t0), initEngineMs: ms(t2 - t1), firstVerifyMs: ms(t3 - t2), totalMs: ms(t3 - t0) };
}
