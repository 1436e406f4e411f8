/**
 * The package on Deno (the `deno` condition). Deno reads `build/engine.wasm` beside the package like Node
 * does (synchronously on first use, or by `await initEngine()`; needs `--allow-read` for it); crypto is
 * WebCrypto. Nothing runs at import time.
 */
export * from '../index.js';
