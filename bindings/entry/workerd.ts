/**
 * The package on Cloudflare Workers and workerd (the `workerd` condition). workerd refuses to compile
 * WebAssembly from bytes at run time and has no `import.meta.url`, so the engine comes in as a module the
 * runtime compiles when it loads the Worker (`import wasm from '...engine.wasm'`; wrangler and workerd's
 * own config both support this). Instantiating it is synchronous and allowed. Crypto is WebCrypto.
 * Nothing runs at import time.
 *
 * Call `await initEngine()` once before the synchronous functions (`canonicalize`, `readEnvelope`, ...).
 * `verify()` loads the engine itself.
 */
import wasm from '../../build/engine.wasm';
import { ensureEngine, initEngine as initEngineFrom, type Engine, type EngineSource } from '../engine.js';
import { verify as verifyChain, type Verdict, type VerifyOptions } from '../verify/verify.js';

export * from '../index.js';

/** Loads the engine (once): from `source` if given, else the module the Worker was loaded with. */
export function initEngine(source?: EngineSource): Promise<Engine> {
  return source === undefined ? ensureEngine(() => wasm) : initEngineFrom(source);
}

/** `verify()`, loading the engine first if need be. */
export async function verify(options: VerifyOptions): Promise<Verdict> {
  await initEngine();
  return verifyChain(options);
}
