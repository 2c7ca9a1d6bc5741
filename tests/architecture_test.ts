// The layering rule of docs/architecture.md, kept true: every relative import
// of src/ (type-only ones included) goes to the importer's own layer or one
// below it, and no import cycle exists. A file's folder decides its layer; a
// file directly in src/ (errors.ts) is the bottom.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The layers from the bottom; a layer may import its own and those before it. */
export const LAYERS = [
  "internal",
  "codec",
  "transports",
  "calls",
  "channel",
  "process",
  "net",
  "pool",
  "nats",
] as const;

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/** Every source file of src/, tests left out, as paths relative to src/. */
function sourceFiles(dir = SRC): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push(relative(SRC, path));
    }
  }
  return files.sort();
}

/** Relative imports and re-exports in code: comments and JSDoc examples left out. */
export function relativeImports(text: string): string[] {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("//"))
    .join("\n");
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of code.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The layer of a file: its folder's place in LAYERS; a file in src/ itself is the bottom. */
export function layerOf(file: string): number {
  const parts = file.split("/");
  if (parts.length === 1) return 0;
  const layer = LAYERS.indexOf(parts[0] as typeof LAYERS[number]);
  if (layer === -1) throw new Error(`src/${file}: its folder is not a layer`);
  return layer;
}

/** The import graph of src/: each file and the source files it imports. */
function importGraph(): Map<string, { target: string; spec: string }[]> {
  const graph = new Map<string, { target: string; spec: string }[]>();
  const files = new Set(sourceFiles());
  for (const file of files) {
    const text = Deno.readTextFileSync(join(SRC, file));
    const edges = relativeImports(text)
      .map((spec) => ({
        spec,
        target: relative(SRC, join(SRC, file, "..", spec)),
      }))
      .filter(({ target }) => files.has(target));
    graph.set(file, edges);
  }
  return graph;
}

/** One cycle through each group of files that import each other, as a path back to its start. */
export function findCycles(graph: Map<string, { target: string }[]>) {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (state.get(target) === "open") {
        cycles.push([...stack.slice(stack.indexOf(target)), target]);
      } else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

Deno.test("relativeImports reads type-only, multi-line and re-exports, never comments", () => {
  const text = [
    "/**",
    " * ```ts",
    ' * import { x } from "./example.ts";',
    " * ```",
    " */",
    '// import { y } from "./commented.ts";',
    'import type { A } from "./a.ts";',
    "import {",
    "  b,",
    '} from "../b.ts";',
    'export { c } from "./c.ts";',
    'const d = await import("./d.ts");',
    'import "npm:not-relative";',
  ].join("\n");
  assert.deepEqual(relativeImports(text), [
    "./a.ts",
    "../b.ts",
    "./c.ts",
    "./d.ts",
  ]);
});

Deno.test("findCycles names a cycle, and finds none in a tree", () => {
  const edges = (pairs: [string, string][]) => {
    const graph = new Map<string, { target: string }[]>();
    for (const [from, to] of pairs) {
      graph.set(from, [...(graph.get(from) ?? []), { target: to }]);
      if (!graph.has(to)) graph.set(to, []);
    }
    return graph;
  };
  assert.deepEqual(
    findCycles(edges([["a", "b"], ["b", "c"], ["c", "a"], ["c", "d"]])),
    [["a", "b", "c", "a"]],
  );
  assert.deepEqual(findCycles(edges([["a", "b"], ["a", "c"], ["b", "c"]])), []);
});

Deno.test("src/ has no import cycle, type-only imports included", () => {
  const cycles = findCycles(importGraph());
  assert.deepEqual(
    cycles.map((cycle) => cycle.map((file) => `src/${file}`).join(" -> ")),
    [],
    "import cycles: break each by moving what both sides need into the lower file",
  );
});

Deno.test("every import of src/ goes to its own layer or one below", () => {
  const upward: string[] = [];
  for (const [file, edges] of importGraph()) {
    for (const { target, spec } of edges) {
      if (layerOf(target) > layerOf(file)) {
        upward.push(
          `src/${file} imports "${spec}" (src/${target}): ${
            target.split("/")[0]
          } is above ${file.split("/")[0]}`,
        );
      }
    }
  }
  assert.deepEqual(
    upward,
    [],
    `layers, from the bottom: errors.ts and ${LAYERS.join(" → ")}`,
  );
});
