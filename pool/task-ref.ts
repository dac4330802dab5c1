/**
 * task(module, exportName): a function named by where it lives instead of by value. For
 * plain scripts, where module-scope code cannot be captured, and for code that needs its
 * module's own imports and state: each worker imports the module once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL, fileURLToPath } from "node:url";

const TASK_REF = Symbol.for("nbpool.taskRef");

export interface TaskRefInfo {
  moduleUrl: string;
  exportName: string;
  key: string;
}

/** A task reference is callable in types only: calling it locally explains itself. */
export type TaskFunction<A extends unknown[] = any[], R = unknown> = ((...args: A) => R) & { readonly [TASK_REF]: TaskRefInfo };

/**
 * Name a function exported by a module, to run in workers:
 * `pool.map(task("./work.js", "square"), items)` or `task(new URL("./work.mjs", import.meta.url), "square")`.
 * Relative paths and bare package names resolve from the current directory.
 */
export function task<A extends unknown[] = any[], R = unknown>(module: string | URL, exportName: string): TaskFunction<A, R> {
  if (typeof exportName !== "string" || exportName === "") throw new TypeError("task(module, exportName): exportName must be a non-empty string");
  const moduleUrl = resolveModuleUrl(module);
  const info: TaskRefInfo = { moduleUrl, exportName, key: `ref:${moduleUrl}#${exportName}` };
  const ref = function taskReference(): never {
    throw new TypeError(`${exportName} from ${moduleUrl} is a task reference: run it with pool.submit / pool.map, or import the module to call it here`);
  };
  Object.defineProperty(ref, TASK_REF, { value: info });
  return ref as unknown as TaskFunction<A, R>;
}

export function taskRefOf(fn: unknown): TaskRefInfo | undefined {
  return typeof fn === "function" ? (fn as { [TASK_REF]?: TaskRefInfo })[TASK_REF] : undefined;
}

function resolveModuleUrl(module: string | URL): string {
  let file: string;
  if (module instanceof URL || /^file:/.test(String(module))) {
    file = fileURLToPath(module);
  } else if (typeof module === "string" && (path.isAbsolute(module) || module.startsWith("."))) {
    file = path.resolve(module);
  } else if (typeof module === "string") {
    try {
      file = createRequire(path.join(process.cwd(), "noop.js")).resolve(module);
    } catch {
      throw new Error(`task(${JSON.stringify(module)}, ...): cannot find the module from ${process.cwd()}; give a path or a file URL`);
    }
  } else {
    throw new TypeError("task(module, exportName): module must be a path, a file URL or a package name");
  }
  if (!fs.existsSync(file)) throw new Error(`task(${JSON.stringify(String(module))}, ...): no such file: ${file}`);
  return pathToFileURL(file).href;
}
