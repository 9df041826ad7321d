/**
 * Node built-in modules loaded at first use instead of at start (https, crypto, dns, child_process,
 * fs/promises): what a worker never needs is never loaded, which keeps idle memory and start time
 * down (docs/sizing-and-performance.md, Performance). The one use of the process's module loader outside bin.ts; it reads
 * nothing of the process's state.
 */
export const loadBuiltin: typeof process.getBuiltinModule = (id: string) => process.getBuiltinModule(id as never);

/**
 * The built-ins only some runs need, reached through loadBuiltin alone, never by a value `import`:
 * esbuild hoists every `require` of the bundle to its top, so one such import anywhere loads the
 * module at every start (node:https brings node:tls and OpenSSL's set-up, about 5 MB of RSS).
 * test/unit/layout_test.ts checks the source for such imports and test/system/startup_builtins_test.ts
 * checks what an idle bundle has loaded.
 */
export const ON_DEMAND_BUILTINS = ["crypto", "https", "tls", "sqlite", "dns", "child_process", "zlib", "fs/promises", "os"] as const;
