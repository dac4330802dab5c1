/**
 * Reading JavaScript source: a function's own text (what `Function.prototype.toString`
 * gives) and whole scripts (compiled cells). acorn parses, eslint-scope does the scope
 * analysis; nothing here walks scopes by hand.
 */
import type { Scope, ScopeManager } from "eslint-scope";

// The parser and the scope analyser are loaded on the first capture, not when nbpool is
// imported: the workers are already starting by then, so the load hides behind theirs.
let parser: { acorn: typeof import("acorn"); analyze: typeof import("eslint-scope").analyze } | undefined;
function load(): NonNullable<typeof parser> {
  return (parser ??= { acorn: require("acorn"), analyze: require("eslint-scope").analyze });
}

/** An ESTree node as acorn makes it (with offsets). */
export interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

export interface Program {
  ast: Node;
  scopes: ScopeManager;
}

const FUNCTION_TYPES = new Set(["FunctionExpression", "FunctionDeclaration", "ArrowFunctionExpression"]);
const CLASS_TYPES = new Set(["ClassExpression", "ClassDeclaration"]);

export function isFunctionNode(node: Node): boolean {
  return FUNCTION_TYPES.has(node.type);
}
export function isClassNode(node: Node): boolean {
  return CLASS_TYPES.has(node.type);
}

/** Parses a script (non-strict, like tslab's output) and analyses its scopes. Throws SyntaxError. */
export function parseProgram(text: string): Program {
  const { acorn, analyze } = load();
  const ast = acorn.parse(text, { ecmaVersion: "latest", sourceType: "script", allowHashBang: true, ranges: true }) as unknown as Node;
  // eslint-scope's types speak ESTree; acorn's nodes are ESTree, only typed differently.
  const scopes = analyze(ast as never, { ecmaVersion: 2022, sourceType: "script" });
  return { ast, scopes };
}

/** Calls `visit` on every node under `root` (iteratively: deep sources must not overflow the stack). */
export function walk(root: Node, visit: (node: Node, parent: Node | undefined) => void): void {
  const stack: Array<[Node, Node | undefined]> = [[root, undefined]];
  while (stack.length > 0) {
    const [node, parent] = stack.pop()!;
    visit(node, parent);
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) if (isNode(value[i])) stack.push([value[i], node]);
      } else if (isNode(value)) stack.push([value, node]);
    }
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as Node).type === "string";
}

/**
 * A function or class as its own source describes it.
 * `form` says how the text becomes an expression again: "expression" texts (function,
 * arrow, class) are wrapped in parentheses; "method" texts (`add(k) {…}`, `get x() {…}`,
 * `async *g() {…}`) only parse inside an object literal.
 */
export interface FunctionSource {
  text: string;
  form: "expression" | "method";
  /** The function or class node, offsets relative to `parsed` (prefix included); absent when read from the parse cache. */
  node?: Node;
  prefix: string;
  kind: "function" | "arrow" | "class" | "method";
  /** `function name(…)`/`async function name(…)`: may be emitted as a hoisted declaration. */
  declarationName?: string;
  /** Identifiers this text uses but does not declare, with how `exports` is used. */
  free: FreeNames;
  /** A class with `#private` members: its instances lose them in structured clone. */
  hasPrivateMembers: boolean;
  /** A method whose body uses `super`: outside its class that names another prototype. */
  usesSuper: boolean;
}

export interface FreeNames {
  /** Bare names not declared in the text (globals, cell names, closure locals). */
  bare: Set<string>;
  /** `exports.NAME` / `exports["NAME"]`: names of the cell namespace. */
  exportsNames: Set<string>;
  /** `exports` used other than as `exports.NAME` (passed around, indexed by a variable). */
  exportsDynamic: boolean;
}

/** Parses a function's text; returns undefined when it is not the text of one function or class. */
export function parseFunctionSource(text: string): FunctionSource | undefined {
  return tryForm(text, "expression", "(", ")") ?? tryForm(text, "method", "({", "\n})");
}

function tryForm(text: string, form: FunctionSource["form"], prefix: string, suffix: string): FunctionSource | undefined {
  let program: Program;
  try {
    program = parseProgram(prefix + text + suffix);
  } catch {
    return undefined;
  }
  const body = program.ast.body as Node[];
  if (body.length !== 1 || body[0]!.type !== "ExpressionStatement") return undefined;
  const expr = (body[0] as Node).expression as Node;
  let node: Node;
  let kind: FunctionSource["kind"];
  if (form === "expression") {
    // The whole text must be the one function: `function(){}); evil(); (function(){}` is refused here.
    if (expr.start !== prefix.length || expr.end !== prefix.length + text.length) return undefined;
    if (isClassNode(expr)) kind = "class";
    else if (expr.type === "ArrowFunctionExpression") kind = "arrow";
    else if (expr.type === "FunctionExpression") kind = "function";
    else return undefined;
    node = expr;
  } else {
    const props = expr.type === "ObjectExpression" ? (expr.properties as Node[]) : [];
    const prop = props[0];
    if (props.length !== 1 || prop!.type !== "Property" || prop!.start !== prefix.length || prop!.end !== prefix.length + text.length) {
      return undefined;
    }
    if (!(prop!.method || prop!.kind === "get" || prop!.kind === "set")) return undefined;
    node = prop!.value as Node;
    kind = "method";
  }
  const free = freeNames(program);
  let hasPrivateMembers = false;
  if (kind === "class") walk(node, (n) => (hasPrivateMembers ||= n.type === "PrivateIdentifier"));
  let usesSuper = false;
  if (kind === "method") walk(node, (n) => (usesSuper ||= n.type === "Super"));
  const id = node.id as Node | null | undefined;
  const declarationName = kind === "function" && id ? (id.name as string) : undefined;
  return { text, form, node, prefix, kind, declarationName, free, hasPrivateMembers, usesSuper };
}

/** The names a parsed text uses without declaring them. */
function freeNames(program: Program): FreeNames {
  const exportsMembers = new Map<Node, string>();
  walk(program.ast, (node) => {
    if (node.type !== "MemberExpression") return;
    const object = node.object as Node;
    if (object.type !== "Identifier" || object.name !== "exports") return;
    const property = node.property as Node;
    if (!node.computed && property.type === "Identifier") exportsMembers.set(object, property.name as string);
    else if (node.computed && property.type === "Literal" && typeof property.value === "string") exportsMembers.set(object, property.value);
  });
  const result: FreeNames = { bare: new Set(), exportsNames: new Set(), exportsDynamic: false };
  for (const ref of throughOf(program.scopes.globalScope!)) {
    const name = ref.identifier.name;
    if (name !== "exports") {
      result.bare.add(name);
      continue;
    }
    const member = exportsMembers.get(ref.identifier as unknown as Node);
    if (member === undefined) result.exportsDynamic = true;
    else result.exportsNames.add(member);
  }
  return result;
}

function throughOf(scope: Scope) {
  return scope.through as Array<{ identifier: { name: string } }>;
}
