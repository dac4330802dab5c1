/**
 * Imported modules: a cell's `import` becomes `require` of the same specifier in the worker,
 * resolved from the notebook's directory. Two ways to know the specifier: the cell's own
 * text (`const os = __importStar(require("os"))`), or, when the text is not at hand, the
 * value itself found among the modules this process has loaded.
 */
import * as path from "node:path";
import { builtinModules, createRequire } from "node:module";
import type { Node } from "./source";

export interface ImportSpec {
  specifier: string;
  /**
   * How the cell held it: `require` = the module itself, `star` = `__importStar(require(…))`,
   * `default` = `__importDefault(require(…))`, `defaultValue` = that `.default`,
   * `prop` = one named export.
   */
  form: "require" | "star" | "default" | "defaultValue" | "prop";
  prop?: string;
}

/** The JavaScript expression that re-imports `spec` in the worker (with the module's `require`). */
export function importExpression(spec: ImportSpec): string {
  const req = `require(${JSON.stringify(spec.specifier)})`;
  switch (spec.form) {
    case "require":
      return req;
    case "star":
      return `__importStar(${req})`;
    case "default":
      return `__importDefault(${req})`;
    case "defaultValue":
      return `__importDefault(${req}).default`;
    case "prop":
      return `${req}[${JSON.stringify(spec.prop)}]`;
  }
}

/** Recognises the initialiser of a TypeScript import alias: `require("x")`, `__importStar(require("x"))`… */
export function importOfInit(init: Node): ImportSpec | undefined {
  const specifier = requiredSpecifier(init);
  if (specifier !== undefined) return { specifier, form: "require" };
  if (init.type !== "CallExpression") return undefined;
  const callee = init.callee as Node;
  const helper = callee.type === "Identifier" ? callee.name : callee.type === "MemberExpression" ? (callee.property as Node).name : undefined;
  const args = init.arguments as Node[];
  const inner = args.length === 1 ? requiredSpecifier(args[0]!) : undefined;
  if (inner === undefined) return undefined;
  if (helper === "__importStar") return { specifier: inner, form: "star" };
  if (helper === "__importDefault") return { specifier: inner, form: "default" };
  return undefined;
}

function requiredSpecifier(node: Node): string | undefined {
  if (node.type !== "CallExpression") return undefined;
  const callee = node.callee as Node;
  const args = node.arguments as Node[];
  if (callee.type !== "Identifier" || callee.name !== "require" || args.length !== 1) return undefined;
  const arg = args[0]!;
  return arg.type === "Literal" && typeof arg.value === "string" ? arg.value : undefined;
}

/** TypeScript's module interop helpers (as tslab's compiler emits them), for code that calls them. */
export const TS_HELPERS = `var __createBinding = (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) { if (k2 === undefined) k2 = k; o[k2] = m[k]; }));
var __setModuleDefault = (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) { o["default"] = v; });
var __importStar = function (mod) {
    if (mod && mod.__esModule) return mod;
    var result = {};
    if (mod != null) for (var k in mod) if (k !== "default" && Object.prototype.hasOwnProperty.call(mod, k)) __createBinding(result, mod, k);
    __setModuleDefault(result, mod);
    return result;
};
var __importDefault = function (mod) { return (mod && mod.__esModule) ? mod : { "default": mod }; };`;

export const TS_HELPER_NAMES = new Set(["__createBinding", "__setModuleDefault", "__importStar", "__importDefault"]);

// --- Knowing a module by its value ------------------------------------------------------

/**
 * Builtins not indexed: internal, deprecated or experimental ones (requiring them warns), and
 * ones whose loading changes the process (`domain` installs async hooks) or costs much (`repl`).
 */
const SKIPPED_BUILTINS = new Set(["punycode", "sys", "wasi", "test", "sqlite", "sea", "constants", "trace_events", "domain", "repl", "inspector", "cluster"]);

interface Known {
  specifier: string;
  prop?: string;
}

let index = new Map<unknown, Known>();
let indexedFiles = -1;

/**
 * Which module (and export) this value is, among the builtins and the modules the process
 * has loaded. Also knows `__importStar` copies (their `default` is the module).
 */
export function identifyModuleValue(value: unknown): ImportSpec | undefined {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return undefined;
  const cacheSize = Object.keys(require.cache).length;
  if (cacheSize !== indexedFiles) buildIndex(cacheSize);
  const known = index.get(value);
  if (known) {
    if (known.prop === undefined) return { specifier: known.specifier, form: "require" };
    if (known.prop === "default") return { specifier: known.specifier, form: "defaultValue" };
    return { specifier: known.specifier, form: "prop", prop: known.prop };
  }
  const inner = Object.getOwnPropertyDescriptor(value, "default")?.value as unknown;
  const module = inner === undefined ? undefined : index.get(inner);
  if (module && module.prop === undefined) return { specifier: module.specifier, form: "star" };
  return undefined;
}

function buildIndex(cacheSize: number): void {
  const next = new Map<unknown, Known>();
  for (const name of builtinModules) {
    if (name.startsWith("_") || SKIPPED_BUILTINS.has(name)) continue;
    try {
      addModule(next, name, require(`node:${name}`), false);
    } catch {
      // not loadable in this Node: nothing to index
    }
  }
  for (const [filename, mod] of Object.entries(require.cache)) {
    if (!mod || !mod.loaded) continue;
    addModule(next, specifierFor(filename), mod.exports, true);
  }
  index = next;
  indexedFiles = cacheSize;
}

function addModule(into: Map<unknown, Known>, specifier: string, exported: unknown, readGetters: boolean): void {
  if ((typeof exported !== "object" && typeof exported !== "function") || exported === null) return;
  if (!into.has(exported)) into.set(exported, { specifier });
  // Compiled ES modules export through getters; other modules' getters may do real work.
  const esModule = readGetters && (exported as { __esModule?: unknown }).__esModule === true;
  for (const key of Object.keys(exported)) {
    const desc = Object.getOwnPropertyDescriptor(exported, key);
    let value: unknown = desc?.value;
    if (desc?.get && esModule) {
      try {
        value = desc.get.call(exported);
      } catch {
        continue;
      }
    }
    if (((typeof value === "object" && value !== null) || typeof value === "function") && !into.has(value)) {
      into.set(value, { specifier, prop: key });
    }
  }
}

/** The specifier that finds `filename` again from the notebook's directory. */
function specifierFor(filename: string): string {
  const parts = filename.split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return filename;
  const width = parts[at + 1]?.startsWith("@") ? 2 : 1;
  const pkg = parts.slice(at + 1, at + 1 + width).join("/");
  const sub = parts.slice(at + 1 + width).join("/");
  const req = createRequire(path.join(process.cwd(), "__nbpool__.js"));
  for (const candidate of [pkg, `${pkg}/${sub}`]) {
    try {
      if (req.resolve(candidate) === filename) return candidate;
    } catch {
      // not reachable by that name from here
    }
  }
  return filename;
}

/**
 * Stock tslab only (no cell text): TypeScript names a module's alias after the specifier's
 * last path segment (`path_1` for "path", `fp_1` for "lodash/fp"). Picks the one module among
 * `candidates` (modules the cells imported) whose name gives `alias`.
 */
export function importForAlias(alias: string, candidates: Iterable<ImportSpec>): ImportSpec | undefined {
  const match = /^(.+)_\d+$/.exec(alias);
  if (!match) return undefined;
  const found = new Set<string>();
  for (const spec of candidates) {
    const names = [spec.specifier, `node:${spec.specifier}`].map(identifierFromModuleName);
    if (names.includes(match[1]!)) found.add(spec.specifier);
  }
  if (found.size !== 1) return undefined;
  // `__importStar` serves `alias.named` and `alias.default` alike.
  return { specifier: [...found][0]!, form: "star" };
}

function identifierFromModuleName(specifier: string): string {
  const base = specifier.replace(/\/+$/, "").split("/").pop()!;
  return base.replace(/^(\d)/, "_$1").replace(/\W/g, "_");
}
