// A `.wasm` file imported as a module: workerd (and wrangler, esbuild's `copy`/`wasm` loaders) give the
// compiled `WebAssembly.Module`, compiled by the runtime when the Worker is loaded.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
