/**
 * The package in browsers (the `browser` condition). The engine is fetched from `build/engine.wasm` beside
 * the package (the `new URL(..., import.meta.url)` form that bundlers recognise and copy the file for) and
 * compiled while it streams in; crypto is WebCrypto. Nothing runs at import time.
 *
 * Browsers cannot read files synchronously: call `await initEngine()` once before the synchronous functions
 * (`canonicalize`, `readEnvelope`, ...). `verify()` loads the engine itself.
 */
import { ensureEngine, initEngine as initEngineFrom, type Engine, type EngineSource } from '../engine.js';
import { verify as verifyChain, type Verdict, type VerifyOptions } from '../verify/verify.js';

export * from '../index.js';

/** Loads the engine (once): from `source` if given, else fetched from beside the package. */
export function initEngine(source?: EngineSource): Promise<Engine> {
  return source === undefined ? ensureEngine(() => new URL('../../build/engine.wasm', import.meta.url)) : initEngineFrom(source);
}

/** `verify()`, loading the engine first if need be. */
export async function verify(options: VerifyOptions): Promise<Verdict> {
  await initEngine();
  return verifyChain(options);
}
