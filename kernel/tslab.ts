/**
 * tslab 1.0.22, loaded with two hooks on the TypeScript copy it compiles with
 * (@tslab/typescript-for-tslab), so that its converter
 *
 *  - emits a source map for every cell: the watch program gets `inlineSourceMap`, and the
 *    ESM -> CommonJS re-transpile (`esModuleToCommonJSModule`) gets a map of its own that is
 *    composed with the first one. The result maps each line of the JavaScript that V8 runs
 *    back to the TypeScript the user wrote (see takeSourceMap).
 *  - finds types where the notebook lives (see type-lookup.ts): the TypeScript module's `sys`
 *    is replaced by a view that forwards some paths.
 *
 * The module's exports are non-configurable getters, and tslab reads them through
 * `__importStar` getters, so the hooks replace the cached module's `exports` object before
 * tslab's converter first requires it. Nothing else in the process sees the change.
 */

import * as path from "path";
import type * as TS from "@tslab/typescript-for-tslab";
import type * as Converter from "tslab/dist/converter";
import type * as Executor from "tslab/dist/executor";
import type { EncodedSourceMap } from "@jridgewell/trace-mapping";
import type { PathForwarding } from "./type-lookup";

export type TypeScript = typeof TS;

export interface Tslab {
  /** tslab's own TypeScript (the real module, not the hooked view). */
  ts: TypeScript;
  createConverter: typeof Converter.createConverter;
  createExecutor: typeof Executor.createExecutor;
  isCompleteCode: typeof Converter.isCompleteCode;
  printQuickInfo(info: TS.QuickInfo): string;
  /** tslab/dist/jupyter: its display API writes through `lastWriteDisplayData`. */
  jupyter: { lastWriteDisplayData: unknown };
  /** The directory of the tslab package. */
  dir: string;
}

/** @jridgewell/remapping (its published .d.cts does not parse, so it is typed here). */
const remapping = require("@jridgewell/remapping") as (
  map: EncodedSourceMap,
  loader: (file: string) => EncodedSourceMap | null,
) => EncodedSourceMap;

const INLINE_MAP = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;
const TRANSPILE_MAP_COMMENT = /\n?\/\/# sourceMappingURL=custom\.js\.map\s*$/;

/** Composed maps of the last transpiles, by output text (see takeSourceMap). */
/** Composed lazily: most cells never throw, and composing costs a good part of a trivial cell. */
const mapsByOutput = new Map<string, () => EncodedSourceMap | undefined>();

let loaded: Tslab | undefined;

/**
 * Loads tslab with the hooks in place. `forwarding` decides which paths the compiler reads
 * from somewhere else. Must run before anything else requires tslab's converter.
 */
export function loadTslab(forwarding: PathForwarding): Tslab {
  if (loaded) return loaded;
  const dir = path.dirname(require.resolve("tslab/package.json"));
  const converterPath = require.resolve("tslab/dist/converter");
  if (require.cache[converterPath]) {
    throw new Error("nbpool: tslab's converter was loaded before the kernel could hook it; load kernel/cells-engine first");
  }
  const tsPath = require.resolve("@tslab/typescript-for-tslab", { paths: [path.dirname(converterPath)] });
  const ts = require(tsPath) as TypeScript;
  const cached = require.cache[tsPath];
  if (!cached) throw new Error(`nbpool: ${tsPath} is not in require's cache`);
  cached.exports = hookedTypeScript(ts, forwarding);

  const converter = require(converterPath) as typeof Converter;
  loaded = {
    ts,
    createConverter: converter.createConverter,
    isCompleteCode: converter.isCompleteCode,
    createExecutor: (require("tslab/dist/executor") as typeof Executor).createExecutor,
    printQuickInfo: (require("tslab/dist/inspect") as { printQuickInfo(info: TS.QuickInfo): string }).printQuickInfo,
    jupyter: require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown },
    dir,
  };
  return loaded;
}

/**
 * The source map (compiled CommonJS -> `export {};\n` + the cell's TypeScript) of a converter
 * output, taken once. Undefined when the output did not come from a hooked emit.
 */
export function takeSourceMap(output: string): (() => EncodedSourceMap | undefined) | undefined {
  const map = mapsByOutput.get(output);
  mapsByOutput.delete(output);
  return map;
}

/** Forget maps nobody took (outputs of side modules). */
export function clearSourceMaps(): void {
  mapsByOutput.clear();
}

/** A view of the TypeScript module: every export forwarded, three replaced. */
function hookedTypeScript(ts: TypeScript, forwarding: PathForwarding): TypeScript {
  const view = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(ts)) {
    Object.defineProperty(view, key, { enumerable: true, configurable: true, get: () => (ts as unknown as Record<string, unknown>)[key] });
  }
  const sys = forwardedSys(ts.sys, forwarding);
  Object.defineProperty(view, "sys", { enumerable: true, get: () => sys });
  Object.defineProperty(view, "createWatchCompilerHost", {
    enumerable: true,
    value: (rootFiles: string[], options: TS.CompilerOptions, ...rest: unknown[]) => {
      const withMaps: TS.CompilerOptions = { ...options, inlineSourceMap: true, sourceMap: false };
      withMaps.typeRoots = forwarding.typeRoots(options.typeRoots ?? []);
      return (ts.createWatchCompilerHost as (...args: unknown[]) => unknown)(rootFiles, withMaps, ...rest);
    },
  });
  Object.defineProperty(view, "transpileModule", {
    enumerable: true,
    value: (input: string, options: TS.TranspileOptions) => transpileWithMap(ts, input, options),
  });
  return view as unknown as TypeScript;
}

/**
 * tslab re-transpiles its ESM output to CommonJS. When the input carries the inline map of
 * the first emit, emit a map for this step too, compose the two, and strip both comments
 * (the script V8 runs stays free of data URLs; its lines do not move).
 */
function transpileWithMap(ts: TypeScript, input: string, options: TS.TranspileOptions): TS.TranspileOutput {
  const inline = INLINE_MAP.exec(input);
  if (!inline) return ts.transpileModule(input, options);
  const source = input.slice(0, inline.index) + "\n";
  const result = ts.transpileModule(source, { ...options, compilerOptions: { ...options.compilerOptions, sourceMap: true, inlineSourceMap: false } });
  const outputText = result.outputText.replace(TRANSPILE_MAP_COMMENT, "\n");
  const firstMap = inline[1];
  const secondMap = result.sourceMapText;
  if (secondMap) {
    const inputName = options.fileName ?? "module.js";
    mapsByOutput.set(outputText, () => {
      try {
        const first = JSON.parse(Buffer.from(firstMap, "base64").toString("utf8")) as EncodedSourceMap;
        const second = JSON.parse(secondMap) as EncodedSourceMap;
        return { ...remapping(second, (file) => (path.basename(file) === path.basename(inputName) ? first : null)) };
      } catch {
        // A map we cannot read only costs exact line numbers in tracebacks.
        return undefined;
      }
    });
  }
  return { ...result, outputText, sourceMapText: undefined };
}

/** ts.sys with reads of forwarded paths sent to where the files really are. */
function forwardedSys(sys: TS.System, forwarding: PathForwarding): TS.System {
  const to = (p: string) => forwarding.forward(p);
  const overrides: Partial<TS.System> = {
    fileExists: (p) => sys.fileExists(to(p)),
    readFile: (p, encoding) => sys.readFile(to(p), encoding),
    directoryExists: (p) => sys.directoryExists(to(p)),
    getDirectories: (p) => sys.getDirectories(to(p)),
    readDirectory: (p, ...rest) => sys.readDirectory(to(p), ...rest),
    // Keep forwarded files under their notebook-side names, as tslab does for itself.
    realpath: (p) => (to(p) !== p ? p : sys.realpath ? sys.realpath(p) : p),
  };
  return new Proxy(sys, {
    get: (target, key, receiver) => (key in overrides ? overrides[key as keyof TS.System] : Reflect.get(target, key, receiver)),
  });
}
