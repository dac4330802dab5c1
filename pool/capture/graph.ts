/**
 * The capture walk: from one function, every name it uses is resolved (a global, a
 * cell-level function or class, an import, data, or something that cannot travel), and each
 * function or class found is walked in turn, once. The result is the list of bindings the
 * worker module must set up; emit.ts writes them out.
 */
import { CaptureError } from "../errors";
import { findInCells, findInExports, type Site } from "./cells";
import { isPool, POOL_MESSAGE, readData, render, type DataSlot, type PathStep } from "./data";
import { isStandardGlobal } from "./globals";
import { identifyModuleValue, importForAlias, TS_HELPER_NAMES, type ImportSpec } from "./modules";
import { parseWithCache } from "./parse-cache";
import type { FunctionSource } from "./source";

export type Def =
  | { kind: "import"; name: string; spec: ImportSpec }
  | { kind: "data"; name: string; slot: DataSlot }
  | { kind: "code"; name: string; source: FunctionSource; site?: Site }
  | { kind: "alias"; name: string; target: string };

/** An instance inside data whose prototype the worker rebuilds from a captured class. */
export interface Fix {
  data: string;
  path: PathStep[];
  ctor: string;
}

export interface Graph {
  defs: Map<string, Def>;
  /** Code bindings in dependency order (what a class extends comes before the class). */
  order: string[];
  /** The binding of the function itself, or its source when no cell-level name holds it. */
  root: { name: string } | { source: FunctionSource; site?: Site };
  fixes: Fix[];
  needsHelpers: boolean;
  /** Cell-level names read, with the value seen: the capture is stale when one changes. */
  checks: Array<[string, unknown]>;
  /** Data bindings with their cell-level names, for the cheap content check. */
  data: Array<[string, DataSlot]>;
}

/** How names outside the function are found: in tslab's cell namespace, or nowhere (a plain script). */
export interface Scope {
  /** `__tslab__.exports`, or undefined in a plain Node script. */
  cells?: Record<string, unknown>;
}

const PLAIN_FIX = "module-scope names cannot travel in a plain script; pass it as an argument, make the function self-contained, or use task(module, export)";

export function buildGraph(fn: Function, label: string, scope: Scope): Graph {
  return new Walk(label, scope).run(fn);
}

class Walk {
  private readonly defs = new Map<string, Def>();
  private readonly byValue = new Map<unknown, string>();
  private readonly order: string[] = [];
  private readonly fixes: Fix[] = [];
  private readonly checks: Array<[string, unknown]> = [];
  private readonly data: Array<[string, DataSlot]> = [];
  private needsHelpers = false;
  private unique = 0;

  constructor(
    private readonly label: string,
    private readonly scope: Scope,
  ) {}

  run(fn: Function): Graph {
    const source = sourceOf(fn, this.label, this.label);
    const site = this.locate(source.text, fn);
    const name = site?.declaredAs ?? (fn.name && this.scope.cells?.[fn.name] === fn ? fn.name : undefined);
    let root: Graph["root"];
    if (name && this.scope.cells?.[name] === fn) {
      this.cellName(name, this.label);
      root = { name };
    } else {
      this.resolveFree(source, site, this.label);
      root = { source, site };
    }
    const { defs, order, fixes, needsHelpers, checks, data } = this;
    return { defs, order, root, fixes, needsHelpers, checks, data };
  }

  private fail(detail: string, identifier: string, cause?: unknown): never {
    throw new CaptureError(`cannot send ${this.label} to a worker: ${detail}`, { identifier, cause });
  }

  private locate(text: string, fn: Function): (Site & { declaredAs?: string }) | undefined {
    const cells = this.scope.cells;
    if (!cells) return undefined;
    return findInCells(text, (name) => cells[name] === fn) ?? findInExports(text, Object.values(cells));
  }

  /** Resolves every name a function or class text uses but does not declare. */
  private resolveFree(source: FunctionSource, site: Site | undefined, usedBy: string): void {
    const { bare, exportsNames, exportsDynamic } = source.free;
    const cells = this.scope.cells;
    if (!cells) {
      for (const name of bare) {
        if (isStandardGlobal(name) || name === "require") continue;
        this.fail(`\`${name}\` (used by ${usedBy}) is not a JavaScript or Node global; ${PLAIN_FIX}`, name);
      }
      if (exportsNames.size > 0 || exportsDynamic) this.fail(`\`exports\` (used by ${usedBy}) is module scope; ${PLAIN_FIX}`, "exports");
      return;
    }
    if (exportsDynamic) {
      this.fail(`${usedBy} uses \`exports\` other than as \`exports.NAME\`; nbpool sends only the cell-level names a function names`, "exports");
    }
    for (const name of exportsNames) this.cellName(name, usedBy);
    for (const name of bare) this.bareName(name, site, usedBy, cells);
  }

  private bareName(name: string, site: Site | undefined, usedBy: string, cells: Record<string, unknown>): void {
    const binding = site?.resolve(name) ?? { kind: "outside" as const };
    switch (binding.kind) {
      case "local":
        return this.fail(`\`${name}\` is a local of ${binding.owner}; pass it as an argument or make it a cell-level constant`, name);
      case "require":
        return;
      case "helper":
        if (TS_HELPER_NAMES.has(name)) this.needsHelpers = true;
        else this.fail(`${usedBy} uses the TypeScript helper \`${name}\`, which nbpool does not provide`, name);
        return;
      case "import":
        return this.bindImport(name, binding.spec);
      case "cell":
        return this.cellName(name, usedBy);
    }
    // Declared nowhere around the text. In a cell's own script that makes it a global; when
    // the cell's text is unknown (stock tslab) it may also be a name of the same cell.
    if (name === "require") return;
    if (TS_HELPER_NAMES.has(name)) {
      this.needsHelpers = true;
      return;
    }
    const own = !site?.exact && Object.prototype.hasOwnProperty.call(cells, name);
    if (isStandardGlobal(name) && !(own && cells[name] !== (globalThis as Record<string, unknown>)[name])) return;
    if (own) return this.cellName(name, usedBy);
    if (!site) {
      const spec = importForAlias(name, this.importedModules(cells));
      if (spec) return this.bindImport(name, spec);
    }
    const hint = site ? "" : " If it is a local variable of an enclosing function, pass it as an argument or make it a cell-level constant.";
    this.fail(`\`${name}\` (used by ${usedBy}) is not a cell-level name nor a JavaScript or Node global, so a worker cannot see it.${hint}`, name);
  }

  /** The modules the cells imported, as their exported values show (stock tslab has no cell text). */
  private *importedModules(cells: Record<string, unknown>): Iterable<ImportSpec> {
    for (const value of Object.values(cells)) {
      const spec = identifyModuleValue(value);
      if (spec) yield spec;
    }
  }

  /** A cell-level name: whatever `exports.NAME` holds now. */
  private cellName(name: string, usedBy: string): void {
    if (this.defs.has(name)) return;
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) this.fail(`${usedBy} reads \`exports[${JSON.stringify(name)}]\`, which is not a name a cell can define`, name);
    const value = this.scope.cells![name];
    this.checks.push([name, value]);
    if (!(name in this.scope.cells!)) {
      this.fail(`\`${name}\` (used by ${usedBy}) is not defined in the notebook (no cell defines it, or the kernel was restarted since); run the cell that defines it`, name);
    }
    this.bindValue(name, value, name);
  }

  private bindValue(name: string, value: unknown, path: string): void {
    const known = (typeof value === "object" && value !== null) || typeof value === "function" ? this.byValue.get(value) : undefined;
    if (known !== undefined) {
      if (known !== name) this.defs.set(name, { kind: "alias", name, target: known });
      return;
    }
    if (isPool(value)) this.fail(`\`${path}\` is a Pool: ${POOL_MESSAGE}`, path);
    if (typeof value === "function") {
      const source = sourceOf(value, `\`${path}\``, this.label, true);
      const site = source && this.locate(source.text, value);
      const spec = site ? undefined : identifyModuleValue(value);
      if (spec) return this.bindImport(name, spec, value);
      return this.bindCode(name, value, source ?? sourceOf(value, `\`${path}\``, this.label), site);
    }
    const spec = typeof value === "object" && value !== null ? identifyModuleValue(value) : undefined;
    if (spec) return this.bindImport(name, spec, value);
    let slot: DataSlot;
    try {
      slot = readData(path, value);
    } catch (error) {
      if (error instanceof CaptureError) this.fail(error.message, error.identifier ?? path, error.cause);
      throw error;
    }
    this.defs.set(name, { kind: "data", name, slot });
    if (typeof value === "object" && value !== null) this.byValue.set(value, name);
    this.data.push([name, slot]);
    for (const instance of slot.instances) {
      const where = render(path, instance.path);
      this.fixes.push({ data: name, path: instance.path, ctor: this.bindClass(instance.ctor, where) });
    }
  }

  private bindCode(name: string, value: Function, source: FunctionSource, site: Site | undefined): void {
    this.defs.set(name, { kind: "code", name, source, site });
    this.byValue.set(value, name);
    this.resolveFree(source, site, `\`${name}\``);
    this.order.push(name);
  }

  private bindImport(name: string, spec: ImportSpec, value?: unknown): void {
    const existing = this.defs.get(name);
    if (existing?.kind === "import" && JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
      this.fail(`\`${name}\` names two different imports (${existing.spec.specifier} and ${spec.specifier}) in the cells this function uses; rename one of them`, name);
    }
    if (spec.form !== "require" && spec.form !== "prop") this.needsHelpers = true;
    this.defs.set(name, { kind: "import", name, spec });
    if (value !== undefined) this.byValue.set(value, name);
  }

  /** The class of an instance found in data: its cell-level name, its module, or its own source. */
  private bindClass(ctor: Function, where: string): string {
    const known = this.byValue.get(ctor);
    if (known) return known;
    const cells = this.scope.cells!;
    const cellName = Object.keys(cells).find((key) => cells[key] === ctor);
    if (cellName) {
      this.cellName(cellName, `\`${where}\``);
    } else {
      const name = `${ctor.name || "Class"}$nbpool${this.unique++}`;
      this.bindValue(name, ctor, `the class of \`${where}\``);
    }
    const bound = this.byValue.get(ctor)!;
    const def = this.defs.get(bound);
    if (def?.kind === "code" && def.source.hasPrivateMembers) {
      this.fail(`\`${where}\` is an instance of \`${ctor.name}\`, which has #private fields; structured clone cannot copy them. Use ordinary fields, or build the object inside the task`, where);
    }
    return bound;
  }
}

const parsed = new Map<string, FunctionSource | undefined>();

function parseCached(text: string): FunctionSource | undefined {
  if (parsed.has(text)) return parsed.get(text);
  if (parsed.size > 5000) parsed.clear();
  const source = parseWithCache(text);
  parsed.set(text, source);
  return source;
}

/** A function's parsed text; refuses native and bound functions and text that does not parse. */
function sourceOf(fn: Function, what: string, label: string, quiet: true): FunctionSource | undefined;
function sourceOf(fn: Function, what: string, label: string): FunctionSource;
function sourceOf(fn: Function, what: string, label: string, quiet = false): FunctionSource | undefined {
  const text = Function.prototype.toString.call(fn);
  const fail = (detail: string): never => {
    throw new CaptureError(`cannot send ${label} to a worker: ${detail}`, { identifier: what.replace(/`/g, "") });
  };
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    if (quiet) return undefined;
    if (fn.name.startsWith("bound ")) {
      fail(`${what} is a bound function (${fn.name}), which has no source to send; pass the original function and the bound values as arguments`);
    }
    fail(`${what} is a native function (${fn.name || "anonymous"}), which has no source to send; call it from a function of your own, e.g. (x) => ${fn.name || "f"}(x)`);
  }
  const source = parseCached(text);
  if (!source) {
    if (quiet) return undefined;
    fail(`the source of ${what} could not be parsed as a function (${text.length > 80 ? `${text.slice(0, 77)}...` : text})`);
  }
  if (source?.usesSuper) {
    // Taken off its class, `super` would name Object.prototype: refuse rather than fail in the worker.
    if (quiet) return undefined;
    fail(`${what} is a method that uses \`super\`, which only works inside its class; send a function that calls it on an instance, e.g. (x) => new MyClass().${fn.name || "method"}(x)`);
  }
  return source;
}
