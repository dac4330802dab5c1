/**
 * Running cells with tslab's executor, and remembering what ran.
 *
 * tslab compiles a cell and runs it as `(function(exports, require) { <js>\n})(...)`. We
 * wrap its converter to name each cell (a `//# sourceURL` comment, so stack frames say
 * `<cell-3>` instead of `evalmachine.<anonymous>`), to keep the exact script V8 ran (for the
 * pool's capture, via Host.cells()) and its source map back to the TypeScript, and to keep
 * the structured compile diagnostics. The executor's console is where tslab reports the
 * last expression's value (log) and a thrown error (error); both are collected per run.
 */

import { TraceMap, originalPositionFor, LEAST_UPPER_BOUND, GREATEST_LOWER_BOUND } from "@jridgewell/trace-mapping";
import type { CellScript } from "../pool/host";
import { clearSourceMaps, takeSourceMap, type Tslab } from "./tslab";
import { cellRequire, type PathForwarding } from "./type-lookup";

type Converter = ReturnType<Tslab["createConverter"]>;
type Executor = ReturnType<Tslab["createExecutor"]>;
type ConvertResult = ReturnType<Converter["convert"]>;

/** A cell as the user wrote it and as V8 ran it. */
export interface Cell {
  /** The sourceURL of its script: `<cell-N>`, `<cell-N#k>` when N ran before. */
  readonly url: string;
  /** Its execution count, the N of "In[N]". */
  readonly count: number;
  /** The TypeScript the user wrote. */
  readonly code: string;
  /** Exactly the script V8 ran; absent when the cell did not compile or had no code. */
  script?: string;
  /** Its source map back to the TypeScript, built on first use (see tslab.ts). */
  map?: () => TraceMap | undefined;
  /** Characters of tslab's wrapper before the compiled code on the script's first line. */
  firstLineOffset: number;
}

/** A compile error, positions 1-based in the cell (or in `file`, a module of the notebook). */
export interface CompileDiagnostic {
  line: number;
  col: number;
  message: string;
  code?: number;
  file?: string;
}

export type RunResult =
  | { status: "ok"; value?: { value: unknown } }
  | { status: "compile-error"; diagnostics: CompileDiagnostic[] }
  | { status: "error"; error: unknown };

export interface CellPosition {
  cell: Cell;
  /** 1-based line and column in the cell's TypeScript. */
  line: number;
  col: number;
}

const DIAGNOSTIC_FORMAT = "%s%d:%d - %s";

export class CellRunner {
  private readonly executor: Executor;
  private readonly byUrl = new Map<string, Cell>();
  private readonly order: Cell[] = [];
  /** The cell being compiled (set around executor.execute, which converts synchronously). */
  private compiling?: Cell;
  private converted?: ConvertResult;
  private outcome: { value?: { value: unknown }; errors: unknown[]; printed: CompileDiagnostic[] } = { errors: [], printed: [] };

  constructor(
    private readonly tslab: Tslab,
    cwd: string,
    forwarding: PathForwarding,
    /** Told of every binding a cell makes: `exports.NAME = value` (see pool-lifecycle.ts). */
    onBind?: (name: string, previous: unknown, next: unknown) => void,
  ) {
    let node: Converter | undefined;
    let browser: Converter | undefined;
    const nodeConverter = () => (node ??= this.namingConverter(tslab.createConverter({ isJS: false, isBrowser: false })));
    nodeConverter(); // Compiling the first cell would otherwise pay for it (hundreds of ms).
    const convs = {
      get node() {
        return nodeConverter();
      },
      get browser() {
        return (browser ??= tslab.createConverter({ isJS: false, isBrowser: true }));
      },
      close: () => {
        node?.close();
        browser?.close();
      },
    };
    this.executor = tslab.createExecutor(cwd, convs, {
      log: (value: unknown) => (this.outcome.value = { value }),
      error: (...args: unknown[]) => {
        if (args[0] === DIAGNOSTIC_FORMAT) this.outcome.printed.push(printedDiagnostic(args));
        else this.outcome.errors.push(args[0]);
      },
    });
    const shared = (globalThis as { __tslab__?: { exports: Record<string, unknown>; require: NodeJS.Require } }).__tslab__;
    if (!shared) throw new Error("nbpool: tslab's executor did not set globalThis.__tslab__");
    shared.require = cellRequire(shared.require, forwarding);
    if (onBind) shared.exports = watchBindings(shared.exports, onBind);
  }

  /** Names a new cell for execution count `count`. */
  newCell(code: string, count: number): Cell {
    let url = `<cell-${count}>`;
    for (let k = 2; this.byUrl.has(url); k++) url = `<cell-${count}#${k}>`;
    const cell: Cell = { url, count, code, firstLineOffset: 0 };
    this.byUrl.set(url, cell);
    this.order.push(cell);
    return cell;
  }

  /**
   * Compiles and runs `cell`. Resolves when its code (including top-level awaits) finished
   * or threw, or when interrupt() released it.
   */
  async run(cell: Cell): Promise<RunResult> {
    this.compiling = cell;
    this.converted = undefined;
    const outcome: CellRunner["outcome"] = { errors: [], printed: [] };
    this.outcome = outcome;
    let ok: boolean;
    try {
      const running = this.executor.execute(cell.code);
      this.compiling = undefined; // compiled synchronously by now
      ok = await running;
    } catch (err) {
      ok = false;
      outcome.errors.push(err);
    } finally {
      this.compiling = undefined;
    }
    // Set by the converter wrapper during execute (TypeScript cannot see that).
    const converted = this.converted as ConvertResult | undefined;
    const diagnostics = converted?.diagnostics ?? [];
    if (diagnostics.length > 0) {
      return { status: "compile-error", diagnostics: diagnostics.map((d) => ({ line: d.start.line + 1, col: d.start.character + 1, message: d.messageText, code: d.code, file: d.fileName })) };
    }
    if (outcome.printed.length > 0) return { status: "compile-error", diagnostics: outcome.printed.map((d) => ownModuleLines(d, cell.code)) };
    if (!ok || outcome.errors.length > 0) return { status: "error", error: outcome.errors[0] };
    return { status: "ok", value: outcome.value };
  }

  /** Releases a cell awaiting something (tslab rejects it with "Interrupted asynchronously"). */
  interrupt(): void {
    this.executor.interrupt();
  }

  complete(code: string, cursorPos: number): { matches: string[]; cursorStart: number; cursorEnd: number } {
    const info = this.executor.complete(code, cursorPos);
    return { matches: info.candidates, cursorStart: info.start, cursorEnd: info.end };
  }

  /** The type and documentation at the cursor, as tslab prints it (undefined: nothing there). */
  inspect(code: string, cursorPos: number): string | undefined {
    const info = this.executor.inspect(code, cursorPos);
    return info ? this.tslab.printQuickInfo(info) : undefined;
  }

  /** The scripts V8 ran, oldest first. */
  *scripts(): Iterable<CellScript> {
    for (const cell of this.order) if (cell.script !== undefined) yield { url: cell.url, source: cell.script };
  }

  cell(url: string): Cell | undefined {
    return this.byUrl.get(url);
  }

  /** Where a position of a cell's script (1-based, as in stack frames) is in its TypeScript. */
  position(url: string, line: number, col: number): CellPosition | undefined {
    const cell = this.byUrl.get(url);
    const map = cell?.map?.();
    if (!cell || !map) return undefined;
    const column = Math.max(0, col - 1 - (line === 1 ? cell.firstLineOffset : 0));
    let found = originalPositionFor(map, { line, column, bias: GREATEST_LOWER_BOUND });
    if (found.line === null) found = originalPositionFor(map, { line, column, bias: LEAST_UPPER_BOUND });
    // Line 1 of the compiled source is tslab's `export {};` prefix, not the user's code.
    if (found.line === null || found.line < 2) return undefined;
    return { cell, line: found.line - 1, col: (found.column ?? 0) + 1 };
  }

  close(): void {
    this.executor.close();
  }

  /** The node converter, wrapped to name the cell it compiles and keep its map and script. */
  private namingConverter(converter: Converter): Converter {
    const convert = converter.convert.bind(converter);
    converter.convert = (prevDecl, src) => {
      clearSourceMaps();
      const result = convert(prevDecl, src);
      this.converted = result;
      const cell = this.compiling;
      if (!cell || result.output === undefined || result.diagnostics.length > 0) return result;
      const map = takeSourceMap(result.output);
      const output = `${result.output}\n//# sourceURL=${cell.url}`;
      // The wrapper tslab puts around the output (executor.js): keep in step with 1.0.22.
      const prefix = result.hasToplevelAwait ? "(async function(exports, require) { " : "(function(exports, require) { ";
      cell.script = `${prefix}${output}\n})(__tslab__.exports, __tslab__.require)`;
      cell.firstLineOffset = prefix.length;
      cell.map = map ? once(() => {
        const composed = map();
        return composed ? new TraceMap(composed) : undefined;
      }) : undefined;
      return { ...result, output };
    };
    return converter;
  }
}

/** A diagnostic about the module that this very cell defines (`@module name`) is about the cell's lines. */
function ownModuleLines(d: CompileDiagnostic, code: string): CompileDiagnostic {
  const name = /@module\s+(\w+)/.exec(code)?.[1];
  return name && d.file && /^(\w+)\.tsx?$/.exec(d.file)?.[1] === name ? { ...d, file: undefined } : d;
}

/** tslab prints module diagnostics as console.error("%s%d:%d - %s", file, line, col, text). */
function printedDiagnostic(args: unknown[]): CompileDiagnostic {
  const file = typeof args[1] === "string" ? args[1].trim() : "";
  return { file: file || undefined, line: Number(args[2]), col: Number(args[3]), message: String(args[4]) };
}

/**
 * The cell namespace with every binding reported. Cells assign `exports.NAME = v`, which a
 * Proxy without a set trap turns into defineProperty on itself.
 */
function watchBindings(
  exports: Record<string, unknown>,
  onBind: (name: string, previous: unknown, next: unknown) => void,
): Record<string, unknown> {
  return new Proxy(exports, {
    defineProperty(target, key, descriptor) {
      const previous = typeof key === "string" ? target[key] : undefined;
      const ok = Reflect.defineProperty(target, key, descriptor);
      if (typeof key === "string" && key !== "__esModule") {
        try {
          onBind(key, previous, target[key]);
        } catch {
          // Watching must never break the assignment itself.
        }
      }
      return ok;
    },
  });
}

/** `f`, evaluated on the first call only. */
function once<T>(f: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = f();
      done = true;
    }
    return value;
  };
}
