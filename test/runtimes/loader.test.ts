/**
 * The engine loader where a runtime refuses synchronous WebAssembly instantiation (Chromium does on the main
 * thread above a size limit; our engine is far below it, so this is simulated): the engine loads
 * asynchronously, keeps a spare instance, and still restarts synchronously after a trap.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type EngineModule = typeof import('../../bindings/engine.js');
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const RealInstance = WebAssembly.Instance;

function refuseSyncInstantiation(): void {
  // What Chromium says (V8's message for modules over the main-thread limit).
  const Refusing = function () {
    throw new RangeError('WebAssembly.Instance is disallowed on the main thread, if the buffer size is larger than 8MB. Use WebAssembly.instantiate.');
  } as unknown as typeof WebAssembly.Instance;
  (WebAssembly as { Instance: typeof WebAssembly.Instance }).Instance = Refusing;
}

function trap(engine: InstanceType<EngineModule['Engine']>): unknown {
  try {
    engine.invoke((raw) => raw.input_ptr(0xfffffff0));
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('a runtime that refuses synchronous instantiation', () => {
  let engineModule: EngineModule;
  beforeEach(async () => {
    vi.resetModules();
    engineModule = await import('../../bindings/engine.js');
    refuseSyncInstantiation();
  });
  afterEach(() => {
    (WebAssembly as { Instance: typeof WebAssembly.Instance }).Instance = RealInstance;
  });

  it('loads asynchronously and restarts from a spare after a trap', async () => {
    const engine = await engineModule.initEngine();
    expect(text(engine.canonicalize('{"b":1,"a":2}'))).toBe('{"a":2,"b":1}');
    expect(trap(engine)).toMatchObject({ code: 'ENGINE', message: expect.stringContaining('was restarted') });
    // Synchronously usable again, on the spare.
    expect(text(engine.canonicalize('{"d":1,"c":2}'))).toBe('{"c":2,"d":1}');
  });

  it('a second trap before the next spare is ready waits for it, then works', async () => {
    const engine = await engineModule.initEngine();
    trap(engine);
    expect(trap(engine)).toMatchObject({ code: 'ENGINE', message: expect.stringContaining('is restarting') });
    expect(() => engine.canonicalize('{}')).toThrow(/still restarting/);
    await engine.ready();
    expect(text(engine.canonicalize('{"z":0,"y":1}'))).toBe('{"y":1,"z":0}');
    expect(engine.limits.maxDepth).toBe(100);
  });

  it('keeps an engine\'s limits across restarts', async () => {
    const engine = await engineModule.initEngine();
    engine.setLimits({ maxDepth: 3 });
    trap(engine);
    expect(() => engine.canonicalize('[[[[1]]]]')).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });

  it('says so when asked to instantiate synchronously there', async () => {
    await engineModule.initEngine();
    expect(() => engineModule.createEngine()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});

describe('loading', () => {
  it('concurrent initEngine() calls share one engine; a trap elsewhere does not disturb it', async () => {
    vi.resetModules();
    const { initEngine, createEngine, getEngine } = await import('../../bindings/engine.js');
    const [a, b] = await Promise.all([initEngine(), initEngine()]);
    expect(a).toBe(b);
    expect(getEngine()).toBe(a);
    const own = createEngine();
    trap(own);
    expect(text(a.canonicalize('[1]'))).toBe('[1]');
    expect(text(own.canonicalize('[2]'))).toBe('[2]');
  });

  it('accepts a compiled module, bytes and a Response', async () => {
    vi.resetModules();
    const { initEngine } = await import('../../bindings/engine.js');
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(new URL('../../build/engine.wasm', import.meta.url));
    const module = await WebAssembly.compile(bytes);
    for (const source of [module, bytes, new Response(bytes, { headers: { 'content-type': 'application/wasm' } }), new Response(bytes)]) {
      const engine = await initEngine(source);
      expect(text(engine.canonicalize('{"b":[],"a":{}}'))).toBe('{"a":{},"b":[]}');
    }
  });
});
