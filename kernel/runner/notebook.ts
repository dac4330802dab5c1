/**
 * The notebook document (nbformat 4.5): read it, get it ready to run, write it back the way
 * Jupyter writes it (sorted keys, one-space indent, multi-line text split into lines), so a
 * notebook executed here and one saved by JupyterLab differ only where the outputs differ.
 */

import { randomBytes } from "crypto";
import * as fs from "fs";

export type MimeBundle = Record<string, unknown>;

export type Output =
  | { output_type: "stream"; name: string; text: string }
  | { output_type: "display_data"; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: "execute_result"; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

interface CellBase {
  id: string;
  metadata: Record<string, unknown> & { tags?: string[] };
  /** Always one string in memory; split into lines only when written. */
  source: string;
}
export interface CodeCell extends CellBase {
  cell_type: "code";
  outputs: Output[];
  execution_count: number | null;
}
export interface TextCell extends CellBase {
  cell_type: "markdown" | "raw";
  attachments?: Record<string, MimeBundle>;
}
export type Cell = CodeCell | TextCell;

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

/** nbclient's convention: a code cell with this tag is expected to fail, and the run goes on. */
export const RAISES_EXCEPTION = "raises-exception";

export const KERNELSPEC = { name: "nbpool", display_name: "TypeScript (nbpool)", language: "typescript" };

/** Read a .ipynb file (nbformat 4), with an error that names the file and what is wrong. */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not a notebook: it is not JSON (${(err as Error).message})`);
  }
  return parseNotebook(raw, file);
}

export function parseNotebook(raw: unknown, source = "the notebook"): Notebook {
  const nb = raw as Record<string, unknown>;
  if (typeof nb !== "object" || nb === null || !Array.isArray(nb.cells)) throw new Error(`${source} is not a notebook: it has no "cells" list`);
  if (nb.nbformat !== 4) throw new Error(`${source} is nbformat ${JSON.stringify(nb.nbformat)}; only nbformat 4 notebooks can be run (convert it with Jupyter first)`);
  const cells = nb.cells.map((c, i): Cell => {
    const cell = c as Record<string, unknown>;
    const where = `${source}: cell ${i + 1}`;
    if (typeof cell !== "object" || cell === null) throw new Error(`${where} is not an object`);
    const base = {
      id: typeof cell.id === "string" ? cell.id : "",
      metadata: isObject(cell.metadata) ? { ...cell.metadata } : {},
      source: joinLines(cell.source, `${where}: source`),
    };
    if (cell.cell_type === "code") {
      const outputs = Array.isArray(cell.outputs) ? cell.outputs.map(joinOutput) : [];
      return { ...base, cell_type: "code", outputs, execution_count: typeof cell.execution_count === "number" ? cell.execution_count : null };
    }
    if (cell.cell_type === "markdown" || cell.cell_type === "raw") {
      return { ...base, cell_type: cell.cell_type, ...(isObject(cell.attachments) ? { attachments: cell.attachments as Record<string, MimeBundle> } : {}) };
    }
    throw new Error(`${where} has cell_type ${JSON.stringify(cell.cell_type)}; expected "code", "markdown" or "raw"`);
  });
  return { nbformat: 4, nbformat_minor: Number(nb.nbformat_minor) || 0, metadata: isObject(nb.metadata) ? { ...nb.metadata } : {}, cells };
}

/**
 * Ready to run and to be written as 4.5: every cell has a valid id, unique in the notebook
 * (4.5 requires them; ids already there are kept), code cells start with no outputs.
 */
export function prepareNotebook(nb: Notebook): void {
  nb.nbformat_minor = Math.max(nb.nbformat_minor, 5);
  nb.metadata.kernelspec = { ...KERNELSPEC };
  const seen = new Set<string>();
  for (const cell of nb.cells) {
    if (!CELL_ID.test(cell.id) || seen.has(cell.id)) cell.id = freshId(seen);
    seen.add(cell.id);
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
}

export function hasTag(cell: Cell, tag: string): boolean {
  return Array.isArray(cell.metadata.tags) && cell.metadata.tags.includes(tag);
}

/** The text Jupyter would save: keys sorted, one-space indent, text split into lines, newline at the end. */
export function serializeNotebook(nb: Notebook): string {
  const cells = nb.cells.map((cell) => {
    const out: Record<string, unknown> = { ...cell, source: splitLines(cell.source) };
    if (cell.cell_type === "code") out.outputs = cell.outputs.map(splitOutput);
    else if (cell.attachments) out.attachments = Object.fromEntries(Object.entries(cell.attachments).map(([k, b]) => [k, splitBundle(b)]));
    return out;
  });
  return `${JSON.stringify(sortKeys({ ...nb, cells }), null, 1)}\n`;
}

/** Write atomically: a reader (or an editor watching the file) never sees half a notebook. */
export function writeNotebook(file: string, nb: Notebook): void {
  const tmp = `${file}.nbpool-${process.pid}.tmp`;
  fs.writeFileSync(tmp, serializeNotebook(nb));
  fs.renameSync(tmp, file);
}

const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

function freshId(taken: Set<string>): string {
  for (;;) {
    const id = randomBytes(4).toString("hex");
    if (!taken.has(id)) return id;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function joinLines(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((l) => typeof l === "string")) return value.join("");
  if (value === undefined) return "";
  throw new Error(`${what} must be a string or a list of strings`);
}

/** Python's str.splitlines(keepends=True), which nbformat uses to split text when it writes. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*(\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]|$)/g)!.filter((l) => l !== "");
}

/** nbformat splits text/* and these two; JSON types and base64 images stay as they are. */
const SPLIT_MIMES = new Set(["application/javascript", "image/svg+xml"]);

function splitBundle(bundle: MimeBundle): MimeBundle {
  return Object.fromEntries(
    Object.entries(bundle).map(([mime, value]) => [mime, typeof value === "string" && (mime.startsWith("text/") || SPLIT_MIMES.has(mime)) ? splitLines(value) : value]),
  );
}

function splitOutput(output: Output): Record<string, unknown> {
  switch (output.output_type) {
    case "stream":
      return { ...output, text: splitLines(output.text) };
    case "display_data":
    case "execute_result":
      return { ...output, data: splitBundle(output.data) };
    default:
      return output;
  }
}

/** An output as read from a file: multi-line text joined back into strings (nbformat's rejoin_lines). */
function joinOutput(raw: unknown): Output {
  const output = { ...(raw as Record<string, unknown>) };
  if (output.output_type === "stream") output.text = joinLines(output.text, "stream text");
  if (isObject(output.data)) {
    output.data = Object.fromEntries(
      Object.entries(output.data).map(([mime, v]) => [mime, Array.isArray(v) && !isJsonMime(mime) && v.every((l) => typeof l === "string") ? v.join("") : v]),
    );
  }
  return output as Output;
}

function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => [k, sortKeys(value[k])]),
  );
}
