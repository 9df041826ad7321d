/**
 * Node built-in modules loaded at first use instead of at start (https, crypto, dns, child_process,
 * fs/promises): what a worker never needs is never loaded, which keeps idle memory and start time
 * down (README, Performance). The one use of the process's module loader outside bin.ts; it reads
 * nothing of the process's state.
 */
export const loadBuiltin: typeof process.getBuiltinModule = (id: string) => process.getBuiltinModule(id as never);
