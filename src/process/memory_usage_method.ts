/**
 * {@linkcode MEMORY_USAGE_METHOD}: how a pool reads a child's memory.
 *
 * @module
 */

/**
 * The method an `IpcPool` calls between calls to read a child's memory
 * (`maxMemoryMiB`). `serveParentCalls()` answers it with
 * `Deno.memoryUsage()`, which needs no permission.
 */
export const MEMORY_USAGE_METHOD = "tether.memoryUsage";
