/**
 * Where each piece of a generated module came from. A function's text is copied verbatim
 * from its cell, so one offset per piece maps every line of it: module line L of a piece
 * that starts at (line, col) is origin line `originLine + (L - line)`; on the piece's first
 * line columns shift too. Lines and columns are 1-based, as in V8 stack frames.
 *
 * The table is kept in memory and also written into the module itself (last line), so a
 * process that did not generate the module can still read it.
 */
import * as fs from "node:fs";

export interface Piece {
  /** Where the piece starts in the module. */
  line: number;
  col: number;
  /** How many lines it spans. */
  lines: number;
  /** The cell's sourceURL and where the text starts in that script. */
  url: string;
  originLine: number;
  originCol: number;
}

export interface Origin {
  url: string;
  line: number;
  col: number;
}

const MARK = "//# nbpool-origins=";
const MODULE_NAME = /[0-9a-f]{32}\.js$/;
const tables = new Map<string, Piece[]>();

/** The last line of a module: its origin table. */
export function originsComment(pieces: Piece[]): string {
  return `${MARK}${JSON.stringify(pieces)}\n`;
}

export function rememberOrigins(modulePath: string, pieces: Piece[]): void {
  tables.set(modulePath, pieces);
}

/** Maps a position in a generated module to the cell it came from; undefined outside copied text. */
export function lookupOrigin(modulePath: string, line: number, col: number): Origin | undefined {
  const pieces = tableOf(modulePath);
  if (!pieces) return undefined;
  for (const piece of pieces) {
    if (line < piece.line || line >= piece.line + piece.lines) continue;
    if (line === piece.line && col < piece.col) continue;
    const first = line === piece.line;
    return { url: piece.url, line: piece.originLine + (line - piece.line), col: first ? piece.originCol + (col - piece.col) : col };
  }
  return undefined;
}

function tableOf(modulePath: string): Piece[] | undefined {
  const known = tables.get(modulePath);
  if (known || !MODULE_NAME.test(modulePath)) return known;
  let pieces: Piece[] = [];
  try {
    const text = fs.readFileSync(modulePath, "utf8");
    const at = text.lastIndexOf(MARK);
    if (at >= 0) pieces = JSON.parse(text.slice(at + MARK.length).trim()) as Piece[];
  } catch {
    // not a module of ours after all, or gone: nothing to map
  }
  tables.set(modulePath, pieces);
  return pieces;
}

const FRAME = /^(\s*at (?:.*?\()?)(.+?):(\d+):(\d+)(\)?)$/;

/** Rewrites the stack frames that point into generated modules so they name the cell and line. */
export function mapStack(stack: string): string {
  return stack
    .split("\n")
    .map((line) => {
      const m = FRAME.exec(line);
      if (!m) return line;
      const origin = lookupOrigin(m[2]!, Number(m[3]), Number(m[4]));
      return origin ? `${m[1]}${origin.url}:${origin.line}:${origin.col}${m[5]}` : line;
    })
    .join("\n");
}
