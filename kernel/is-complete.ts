/**
 * is_complete for TypeScript: "complete" when the code parses, "incomplete" when the only
 * syntax errors are at its very end and more text could fix them (an open brace, an open
 * template literal or comment, a dangling operator), "invalid" otherwise. As in tslab, code
 * that ends with two blank lines counts as complete, so a console user can force a run.
 */

import type { Tslab } from "./tslab";

export type IsCompleteReply = { status: "complete" | "incomplete" | "invalid"; indent?: string };

/** Parsed as tslab compiles cells: a module (top-level await is fine), TypeScript, not TSX. */
const MODULE_PREFIX = "export {};\n";
const FORCE_RUN = /\n[ \t]*\n[ \t]*\n[ \t]*$/;

export function isComplete(tslab: Tslab, code: string): IsCompleteReply {
  const { ts } = tslab;
  const file = ts.createSourceFile("cell.ts", MODULE_PREFIX + code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const diagnostics = (file as unknown as { parseDiagnostics?: { start: number; length: number; messageText: unknown }[] }).parseDiagnostics ?? [];
  if (diagnostics.length === 0) return { status: "complete" };
  const end = MODULE_PREFIX.length + code.length;
  const fixableByMore = diagnostics.every((d) => d.start === end && d.length === 0 && !/^Unterminated string literal/.test(String(d.messageText)));
  if (!fixableByMore) return { status: "invalid" };
  if (FORCE_RUN.test(code)) return { status: "complete" };
  return { status: "incomplete", indent: tslab.isCompleteCode(code).indent ?? "" };
}
