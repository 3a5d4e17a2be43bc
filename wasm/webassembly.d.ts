// The few WebAssembly JS API types wasm/ uses (they live in lib.dom, which this Node project does not load).
declare global {
  namespace WebAssembly {
    class Memory {
      readonly buffer: ArrayBuffer;
    }
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
  }
}
export {};
