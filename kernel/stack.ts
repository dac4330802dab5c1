/**
 * V8 stack text -> frames a notebook user cares about. A frame is in a cell (mapped to the
 * TypeScript line), elsewhere (a library, a module of the notebook: shown shortened), or
 * machinery (Node internals, tslab, the vm, nbpool itself: dropped).
 */

import * as path from "path";
import type { CellPosition, CellRunner } from "./cells";
import { packageRoot } from "./type-lookup";

export type Frame =
  | { kind: "cell"; fn?: string; at: CellPosition }
  | { kind: "file"; fn?: string; file: string; line: number; col: number };

/** `    at [async ][fn (]file:line:col[)]` */
const FRAME = /^\s*at (?:async )?(?:(.*?) \()?(.+?):(\d+):(\d+)\)?\s*$/;

const OWN_DIST = path.join(packageRoot, "dist") + path.sep;
const TSLAB_DIR = (() => {
  try {
    return path.dirname(require.resolve("tslab/package.json")) + path.sep;
  } catch {
    return undefined;
  }
})();

/** The frames of a stack (innermost first, as V8 writes them), machinery dropped. */
export function framesOf(stack: string | undefined, cells: CellRunner): Frame[] {
  if (!stack) return [];
  const frames: Frame[] = [];
  for (const line of stack.split("\n")) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const [, rawFn, file, lineText, colText] = m as unknown as [string, string | undefined, string, string, string];
    const fn = functionName(rawFn);
    const lineNo = Number(lineText);
    const col = Number(colText);
    const cell = cells.cell(file);
    if (cell) {
      const at = cells.position(file, lineNo, col);
      // A frame in tslab's wrapper or in an emit helper of the cell is machinery too.
      if (at) frames.push({ kind: "cell", fn, at });
      continue;
    }
    if (isMachinery(file)) continue;
    frames.push({ kind: "file", fn, file, line: lineNo, col });
  }
  // What called the outermost cell frame is the kernel running the cell (or a test driver).
  let outermostCell = -1;
  frames.forEach((f, i) => f.kind === "cell" && (outermostCell = i));
  return outermostCell >= 0 ? frames.slice(0, outermostCell + 1) : frames;
}

function isMachinery(file: string): boolean {
  if (file.startsWith("node:") || file.startsWith("evalmachine.") || file === "<anonymous>" || file === "native") return true;
  if (file.includes(" (eval at ") || file.startsWith("eval at ")) return true;
  if (file.startsWith(OWN_DIST)) return true;
  return TSLAB_DIR !== undefined && file.startsWith(TSLAB_DIR);
}

/**
 * A readable function name: tslab calls cell functions through its exports Proxy, so V8
 * says `Proxy.f`; top-level cell code is `Object.<anonymous>` or has no name.
 */
function functionName(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let name = raw.replace(/^(?:Proxy|Object)\./, "").replace(/ \[as [^\]]+\]$/, "");
  if (name === "<anonymous>" || name === "") return undefined;
  if (name.startsWith("new ")) name = name.slice(4);
  return name;
}
