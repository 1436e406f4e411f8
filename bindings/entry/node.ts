/**
 * The package on Node (the `node` condition). The engine is read from `build/engine.wasm` beside the
 * package, synchronously on first use or by `await initEngine()`; crypto is node:crypto. Adds what only
 * Node can do: running inspections as processes. Nothing runs at import time.
 */
export * from '../index.js';
export { nodeInspectionRunner, type NodeInspectionOptions } from '../record/inspect-node.js';
