/**
 * Type lookup (and module lookup) wherever the notebook lives. tslab resolves both from the
 * kernel's cwd, the notebook's directory, which usually has no node_modules:
 *
 *  - `import { Pool } from "nbpool"` must find this package: when no `node_modules/nbpool`
 *    is visible from the notebook, `<cwd>/node_modules/nbpool/...` is served from this
 *    package's directory (to the compiler), and `require("nbpool")` loads this copy (at run
 *    time). A notebook with its own nbpool installed uses that one for both.
 *  - `console` and `process` need @types/node among the type roots: tslab falls back to
 *    `tslab/node_modules/@types`, which does not exist when npm hoisted @types/node; then
 *    the @types directory that holds tslab's @types/node is used.
 *  - The kernel's own globals (`display`) are declared in a type root of this package
 *    (kernel/types/nbpool-kernel).
 */

import * as fs from "fs";
import Module = require("module");
import * as path from "path";

export interface PathForwarding {
  /** Where the compiler should really read `p`. */
  forward(p: string): string;
  /** The type roots to use instead of tslab's `roots`. */
  typeRoots(roots: readonly string[]): string[];
  /** Whether `nbpool` resolves to this package (rather than one next to the notebook). */
  readonly servesNbpool: boolean;
}

/** This package's directory (dist/kernel/x.js -> the root). */
export const packageRoot = path.resolve(__dirname, "..", "..");
const PACKAGE_NAME = "nbpool";
/** The type root with the kernel's globals (dist/kernel/types/nbpool-kernel/index.d.ts). */
const KERNEL_TYPES = path.join(__dirname, "types");

export function pathForwarding(cwd: string, tslabDir: string): PathForwarding {
  const servesNbpool = !visiblePackage(cwd, PACKAGE_NAME);
  const virtualRoot = path.join(cwd, "node_modules", PACKAGE_NAME);
  return {
    servesNbpool,
    forward(p) {
      if (!servesNbpool) return p;
      const rel = path.relative(virtualRoot, p);
      if (rel === "") return packageRoot;
      if (rel.startsWith("..") || path.isAbsolute(rel)) return p;
      // Only what the package publishes: no node_modules of this checkout.
      if (rel.split(path.sep)[0] === "node_modules") return p;
      return path.join(packageRoot, rel);
    },
    typeRoots(roots) {
      const out = [...roots, KERNEL_TYPES];
      if (roots.some((root) => fs.existsSync(path.join(root, "node", "package.json")))) return out;
      const nodeTypes = resolveFrom(tslabDir, "@types/node/package.json") ?? resolveFrom(packageRoot, "@types/node/package.json");
      if (nodeTypes) out.push(path.dirname(path.dirname(nodeTypes)));
      return out;
    },
  };
}

/**
 * `require` for cells: `nbpool` (and `nbpool/...`) from this package when the notebook has
 * none of its own; everything else as tslab resolves it. Keeps the properties of tslab's
 * require (resolve, cache).
 */
export function cellRequire(tslabRequire: NodeJS.Require, forwarding: PathForwarding): NodeJS.Require {
  if (!forwarding.servesNbpool) return tslabRequire;
  // A require that lives inside this package resolves the package's own name (self-reference).
  const own = Module.createRequire(path.join(packageRoot, "package.json"));
  const ours = (id: unknown): id is string => typeof id === "string" && (id === PACKAGE_NAME || id.startsWith(`${PACKAGE_NAME}/`));
  const resolve = new Proxy(tslabRequire.resolve, {
    apply: (target, thisArg, args: unknown[]) => (ours(args[0]) ? own.resolve(args[0]) : Reflect.apply(target, thisArg, args)),
  });
  return new Proxy(tslabRequire, {
    apply: (target, thisArg, args: unknown[]) => (args.length === 1 && ours(args[0]) ? own(args[0]) : Reflect.apply(target, thisArg, args)),
    get: (target, key, receiver) => (key === "resolve" ? resolve : Reflect.get(target, key, receiver)),
  });
}

function visiblePackage(from: string, name: string): boolean {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== "node_modules" && fs.existsSync(path.join(dir, "node_modules", name, "package.json"))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}

function resolveFrom(dir: string, request: string): string | undefined {
  try {
    return require.resolve(request, { paths: [dir] });
  } catch {
    return undefined;
  }
}
