/**
 * What parsing a function's text found, kept on disk beside the worker modules. Parsing
 * needs acorn and eslint-scope, which take ~15 ms to load: more than the rest of a pool's
 * start. The result depends on the text alone, so a process that captures a function it
 * (or an earlier process) has seen before reads it back instead: a script run again, a
 * kernel restarted. The first capture of a text still pays for the parser.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { moduleDir, writeOnce } from "./cache-dir";
import { parseFunctionSource, type FunctionSource } from "./source";

/** Bump when FunctionSource or the analysis behind it changes. */
const FORMAT = 1;

type Stored = Omit<FunctionSource, "node" | "free"> & { free: { bare: string[]; exportsNames: string[]; exportsDynamic: boolean } };

export function parseWithCache(text: string): FunctionSource | undefined {
  let dir: string;
  try {
    dir = moduleDir();
  } catch {
    return parseFunctionSource(text);
  }
  const name = `${createHash("sha256").update(`${FORMAT}\0${text}`).digest("hex").slice(0, 40)}.parse.json`;
  try {
    const stored = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as Stored;
    if (stored.text === text) {
      return { ...stored, free: { bare: new Set(stored.free.bare), exportsNames: new Set(stored.free.exportsNames), exportsDynamic: stored.free.exportsDynamic } };
    }
  } catch {
    // Not seen yet (or unreadable): parse.
  }
  const source = parseFunctionSource(text);
  if (source) {
    const { node: _node, free, ...rest } = source;
    const stored: Stored = { ...rest, free: { bare: [...free.bare], exportsNames: [...free.exportsNames], exportsDynamic: free.exportsDynamic } };
    try {
      writeOnce(dir, name, JSON.stringify(stored));
    } catch {
      // A cache that cannot be written is only slower.
    }
  }
  return source;
}
