/**
 * Where a function's text sits in the notebook: which compiled cell, which line, and what
 * each name it uses is bound to there (a cell-level name, an import alias of the cell, a
 * local of an enclosing function, or nothing: a global).
 *
 * With a host that gives the compiled cells (the nbpool kernel) the answer is exact. Without
 * one (stock tslab) the text is searched in the source of the functions and classes the cells
 * exported: a closure defined inside `makeAdder` is a piece of `makeAdder`'s text.
 */
import { getHost } from "../host";
import { parseFunctionSource, parseProgram, walk, isClassNode, isFunctionNode, type Node, type Program } from "./source";
import { importOfInit, type ImportSpec } from "./modules";

export type Binding =
  | { kind: "cell" } // a cell-level name: read it from the cell namespace (exports)
  | { kind: "import"; spec: ImportSpec } // an import alias of the cell (`path_1`, `os`)
  | { kind: "helper" } // a TypeScript emit helper (`__importStar`…) declared by the cell
  | { kind: "require" } // the cell's `require`
  | { kind: "local"; owner: string } // a local variable of an enclosing function (or block)
  | { kind: "outside" }; // not declared around the text: a global, or a cell name the search could not see

export interface Site {
  /** The cell's sourceURL, when the text was found in a compiled cell. */
  url?: string;
  /** Found in a compiled cell's script: a name declared nowhere around the text is a global, never a cell name. */
  exact: boolean;
  /** 1-based line and column of the text's first character in that cell script. */
  line: number;
  col: number;
  resolve(name: string): Binding;
}

interface Script extends Program {
  source: string;
  url?: string;
  /** The scope of the cell's top level: tslab's wrapper function, or the script's global scope. */
  cellScope: Scope;
  parents: Map<Node, Node>;
  /** For text found inside a function's source: the offset of that source in the parsed text. */
  base: number;
}

type Scope = import("eslint-scope").Scope;
type Variable = Scope["variables"][number];

const scripts = new Map<string, Script | null>();

function scriptOf(source: string, url: string | undefined, text?: { prefix: string }): Script | null {
  const cacheKey = (text ? "f:" : "s:") + source;
  let script = scripts.get(cacheKey);
  if (script !== undefined) return script;
  if (scripts.size > 2000) scripts.clear();
  script = null;
  try {
    const parsedText = text ? text.prefix + source : source;
    const program = text ? parsed(source) : parseProgram(parsedText);
    if (program) {
      const parents = new Map<Node, Node>();
      walk(program.ast, (node, parent) => parent && parents.set(node, parent));
      const body = program.ast.body as Node[];
      let cellScope: Scope = program.scopes.globalScope!;
      const only = body.length === 1 ? (body[0]!.expression as Node | undefined) : undefined;
      if (!text && only?.type === "CallExpression" && isFunctionNode(only.callee as Node)) {
        cellScope = program.scopes.acquire(only.callee as never) ?? cellScope;
      }
      script = { ...program, source, url, cellScope, parents, base: text ? text.prefix.length : 0 };
    }
  } catch {
    script = null; // a cell that does not parse as a script cannot hold our function
  }
  scripts.set(cacheKey, script);
  return script;
}

function parsed(functionSource: string): Program | undefined {
  const fn = parseFunctionSource(functionSource);
  if (!fn) return undefined;
  return parseProgram(fn.prefix + functionSource + (fn.form === "method" ? "\n})" : ")"));
}

/**
 * Finds `text` (a function's source) in the compiled cells the host gives, newest first.
 * `isLive(name)` says whether a cell-level name still holds this very function, which
 * picks the right cell when the same text was run more than once.
 */
export function findInCells(text: string, isLive: (name: string) => boolean): Site | undefined {
  const cells = getHost()?.cells?.();
  if (!cells) return undefined;
  const list = Array.from(cells);
  let fallback: Site | undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const cell = list[i]!;
    if (!cell.source.includes(text)) continue;
    const script = scriptOf(cell.source, cell.url);
    const site = script && siteIn(script, text);
    if (!site) continue;
    if (site.declaredAs === undefined || isLive(site.declaredAs)) return site;
    fallback ??= site;
  }
  return fallback;
}

/** Stock tslab: finds `text` strictly inside the source of a function or class the cells exported. */
export function findInExports(text: string, exported: Iterable<unknown>): Site | undefined {
  for (const value of exported) {
    if (typeof value !== "function") continue;
    let source: string;
    try {
      source = Function.prototype.toString.call(value);
    } catch {
      continue;
    }
    if (source.length <= text.length || !source.includes(text)) continue;
    const fn = parseFunctionSource(source);
    const script = fn && scriptOf(source, undefined, { prefix: fn.prefix });
    const site = script && siteIn(script, text);
    if (site) return site;
  }
  return undefined;
}

function siteIn(script: Script, text: string): (Site & { declaredAs?: string }) | undefined {
  for (let at = script.source.indexOf(text); at >= 0; at = script.source.indexOf(text, at + 1)) {
    const start = script.base + at;
    const end = start + text.length;
    let found: Node | undefined;
    walk(script.ast, (node) => {
      if (node.end !== end || node.start < start || !(isFunctionNode(node) || isClassNode(node))) return;
      if (!found || node.start < found.start) found = node;
    });
    if (!found) continue;
    const node = found;
    const { line, col } = position(script.source, at);
    const parent = script.parents.get(node);
    const id = node.id as Node | null | undefined;
    let declaredAs = id && node.type.endsWith("Declaration") ? (id.name as string) : undefined;
    if (!declaredAs && parent?.type === "VariableDeclarator") declaredAs = (parent.id as Node).name as string | undefined;
    const inCell = script.base === 0;
    const scope = script.scopes.acquire(node as never);
    return {
      url: inCell ? script.url : undefined,
      exact: inCell,
      line,
      col,
      declaredAs: inCell ? declaredAs : undefined,
      resolve: (name) => resolveIn(script, scope?.upper ?? null, name),
    };
  }
  return undefined;
}

function position(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf("\n"); i >= 0 && i < offset; i = source.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

function resolveIn(script: Script, from: Scope | null, name: string): Binding {
  for (let scope = from; scope; scope = scope.upper) {
    const variable = scope.set.get(name);
    if (!variable) continue;
    if (scope === script.cellScope) return cellBinding(variable, name);
    // A class or named function expression sees its own name: that is the class itself,
    // a cell-level name when the class stands at the cell's top level.
    const def = variable.defs[0];
    if ((def?.type === "ClassName" || def?.type === "FunctionName") && scope.upper === script.cellScope) return { kind: "cell" };
    if (def?.type === "ClassName" && scope.type === "class" && scope.upper === script.cellScope) return { kind: "cell" };
    return { kind: "local", owner: ownerOf(script, scope) };
  }
  return { kind: "outside" };
}

function cellBinding(variable: Variable, name: string): Binding {
  if (name === "require") return { kind: "require" };
  const def = variable.defs[0];
  if (def?.type === "Variable") {
    const init = (def.node as unknown as Node).init as Node | null;
    const spec = init ? importOfInit(init) : undefined;
    if (spec) return { kind: "import", spec };
    if (name.startsWith("__")) return { kind: "helper" };
  }
  return { kind: "cell" };
}

/** Names the function (or class) whose scope holds a local, for the error message. */
function ownerOf(script: Script, scope: Scope): string {
  for (let s: Scope | null = scope; s && s !== script.cellScope; s = s.upper) {
    const block = s.block as unknown as Node;
    if (!isFunctionNode(block) && !isClassNode(block)) continue;
    const id = block.id as Node | null | undefined;
    if (id) return `\`${id.name as string}\``;
    const parent = script.parents.get(block);
    if (parent?.type === "VariableDeclarator" && (parent.id as Node).type === "Identifier") return `\`${(parent.id as Node).name as string}\``;
    if ((parent?.type === "MethodDefinition" || parent?.type === "Property") && (parent.key as Node).type === "Identifier") {
      return `\`${(parent.key as Node).name as string}\``;
    }
    return "an enclosing anonymous function";
  }
  return "an enclosing block";
}
