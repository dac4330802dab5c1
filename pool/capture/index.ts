/**
 * Turning a function value into something a worker can run: captureFunction analyses the
 * function, writes a worker module to the private cache and returns its path, a key, and the
 * data the module needs. The pool calls it on every submit, so a repeat call for the same
 * function is a WeakMap lookup plus a check that nothing it used has changed.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { CaptureError } from "../errors";
import { getHost } from "../host";
import { moduleDir, writeOnce } from "./cache-dir";
import { sameContent } from "./data";
import { emitModule, type ModuleData } from "./emit";
import { buildGraph, type Graph, type Scope } from "./graph";
import { rememberOrigins } from "./origins";

export { lookupOrigin, mapStack, type Origin } from "./origins";
export type { ModuleData } from "./emit";

export interface Captured {
  /** Content hash of code + data version; a worker loads each key once. */
  key: string;
  /** Absolute path of the generated CommonJS module in the private cache directory. */
  modulePath: string;
  /** Structured-cloneable values the module needs; sent once per worker per key. */
  data: ModuleData;
}

export interface CaptureOptions {
  role: "task" | "initializer";
}

interface Entry {
  captured: Captured;
  /** How many compiled cells the host listed: a new cell may hold the same text (a re-run). */
  cellCount: number | undefined;
  cells: Record<string, unknown> | undefined;
  cwd: string;
  checks: Graph["checks"];
  data: Graph["data"];
}

const caches = { task: new WeakMap<Function, Entry>(), initializer: new WeakMap<Function, Entry>() };
/** Closures made in a loop are new objects with the same text: they share one capture. */
const byText = { task: new Map<string, Entry>(), initializer: new Map<string, Entry>() };

/**
 * Captures `fn` for a worker. Throws CaptureError, naming what cannot travel and what to do,
 * when the function uses something a worker cannot get.
 */
export function captureFunction(fn: Function, options: CaptureOptions): Captured {
  const role = options.role;
  if (typeof fn !== "function") {
    throw new CaptureError(`the ${role === "task" ? "task" : "initializer"} must be a function, got ${fn === null ? "null" : typeof fn}`);
  }
  const cells = cellNamespace();
  const entry = caches[role].get(fn);
  if (entry && isFresh(entry, cells)) return entry.captured;
  const text = Function.prototype.toString.call(fn);
  const cellCount = countCells();
  const same = byText[role].get(text);
  const next = same && same.cellCount === cellCount && isFresh(same, cells) ? same : capture(fn, role, cells, cellCount);
  caches[role].set(fn, next);
  if (byText[role].size > 1000) byText[role].clear();
  byText[role].set(text, next);
  return next.captured;
}

function isFresh(entry: Entry, cells: Record<string, unknown> | undefined): boolean {
  if (entry.cells !== cells || entry.cwd !== process.cwd()) return false;
  for (const [name, value] of entry.checks) if (cells![name] !== value) return false;
  for (const [name, slot] of entry.data) if (!sameContent(slot, cells![name])) return false;
  return true;
}

function countCells(): number | undefined {
  const cells = getHost()?.cells?.();
  if (!cells) return undefined;
  return Array.isArray(cells) ? cells.length : Array.from(cells).length;
}

function capture(fn: Function, role: CaptureOptions["role"], cells: Record<string, unknown> | undefined, cellCount: number | undefined): Entry {
  const label = role === "initializer" ? "the initializer" : fn.name ? `\`${fn.name}\`` : "the task function";
  const scope: Scope = { cells };
  const graph = buildGraph(fn, label, scope);
  const cwd = process.cwd();
  const { text, pieces, data } = emitModule(graph, cwd);
  const codeHash = createHash("sha256").update(text).digest("hex").slice(0, 32);
  const modulePath = writeOnce(moduleDir(), `${codeHash}.js`, text);
  rememberOrigins(modulePath, pieces);
  const dataHash = createHash("sha256");
  for (const [, slot] of graph.data) dataHash.update(slot.hash).update("\0");
  const key = `${codeHash}-${dataHash.digest("hex").slice(0, 16)}`;
  return {
    captured: { key, modulePath: path.resolve(modulePath), data },
    cellCount,
    cells,
    cwd,
    checks: graph.checks,
    data: graph.data,
  };
}

/** tslab's cell namespace (`__tslab__.exports`) when running inside a tslab-compiled cell. */
function cellNamespace(): Record<string, unknown> | undefined {
  const tslab = (globalThis as { __tslab__?: { exports?: Record<string, unknown> } }).__tslab__;
  return tslab?.exports;
}
