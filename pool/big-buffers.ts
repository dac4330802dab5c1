/**
 * Big binary values skip the IPC pipe. Sent through IPC, an 8 MiB Float64Array is copied
 * five times (serialize, into the kernel, out in 64 KB pieces, concatenated, deserialized);
 * written to a file in /dev/shm (memory, not disk) and read on the other side, it is copied
 * twice. Typed arrays, Buffers, DataViews and ArrayBuffers of at least BIG_BYTES, at the top
 * of an argument or result or inside plain arrays and objects, travel that way; the message
 * carries a small marker in their place. Elsewhere (no /dev/shm) everything goes by IPC.
 *
 * Used by both sides; the owner chooses the directory and passes it to its workers in
 * NBPOOL_SHM_DIR. A file is deleted by whoever reads it; the owner deletes the directory at
 * exit, and the directories of owners that died are removed by the next owner.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const BIG_BYTES = 1 << 20;
const MARK = "__nbpoolShm";
/** Bounds on the search, so that a task with many small values pays almost nothing. */
const MAX_DEPTH = 3;
const MAX_VISITS = 256;

type Marker = { [MARK]: [file: string, kind: string, length: number] };
type Binary = ArrayBufferView | ArrayBuffer;

let directory: string | undefined | null = process.env.NBPOOL_SHM_DIR || undefined;

/** Owner side: the directory for big buffers, or null where there is no /dev/shm. */
export function shmDirectory(): string | null {
  if (directory === undefined) {
    // Owner side only; workers take the directory from their environment.
    const { scratchDirectory } = require("./scratch-dir") as typeof import("./scratch-dir");
    const scratch = scratchDirectory();
    directory = scratch?.inMemory ? scratch.dir : null;
  }
  return directory;
}

function isBig(value: unknown): value is Binary {
  if (ArrayBuffer.isView(value)) return value.byteLength >= BIG_BYTES && !(value.buffer instanceof SharedArrayBuffer);
  return value instanceof ArrayBuffer && value.byteLength >= BIG_BYTES;
}

function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kindOf(value: Binary): string {
  if (value instanceof ArrayBuffer) return "ArrayBuffer";
  if (Buffer.isBuffer(value)) return "Buffer";
  return value.constructor.name;
}

function stash(dir: string, value: Binary): Marker {
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  // node:crypto loads on the first big value, not at every worker's start.
  const file = path.join(dir, (require("node:crypto") as typeof import("node:crypto")).randomBytes(12).toString("hex"));
  fs.writeFileSync(file, bytes, { mode: 0o600 });
  const length = value instanceof ArrayBuffer || value instanceof DataView ? value.byteLength : (value as unknown as { length: number }).length;
  return { [MARK]: [file, kindOf(value), length] };
}

/**
 * Replace big binary values in `values` (an argument list, a chunk's items, or [result]) by
 * markers, in place where they sit in plain containers. Returns true when it replaced any.
 * Plain containers that hold one are copied, not changed: the caller's data stays its own.
 */
export function stashBig(values: unknown[], dir: string | null): { values: unknown[]; stashed: boolean } {
  // The common case (numbers, strings, small objects' owners) costs one pass of typeof.
  if (!dir || !values.some((v) => v !== null && typeof v === "object")) return { values, stashed: false };
  let visits = 0;
  let stashed = false;
  const walk = (value: unknown, depth: number): unknown => {
    if (++visits > MAX_VISITS) return value;
    if (isBig(value)) {
      stashed = true;
      return stash(dir, value);
    }
    if (depth >= MAX_DEPTH || !isPlainContainer(value)) return value;
    let copy: Record<string, unknown> | unknown[] | undefined;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const replaced = walk(item, depth + 1);
      if (replaced !== item) {
        copy ??= Array.isArray(value) ? [...value] : { ...value };
        (copy as Record<string, unknown>)[key] = replaced;
      }
    }
    return copy ?? value;
  };
  // A getter or a Proxy trap that throws: leave that value as it is, and let structured clone
  // refuse it with an error that names it (an exception here would escape the dispatch loop).
  const out = values.map((v) => {
    try {
      return walk(v, 0);
    } catch {
      return v;
    }
  });
  return stashed ? { values: out, stashed } : { values, stashed };
}

function restore(marker: Marker): Binary {
  const [file, kind, length] = marker[MARK];
  const buf = fs.readFileSync(file);
  fs.rmSync(file, { force: true });
  if (kind === "Buffer") return buf;
  // Typed arrays need their element alignment; a fresh file read is aligned, but check.
  const ab = buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (kind === "ArrayBuffer") return ab as ArrayBuffer;
  if (kind === "DataView") return new DataView(ab as ArrayBuffer);
  const Ctor = (globalThis as unknown as Record<string, new (b: ArrayBufferLike, o: number, l: number) => ArrayBufferView>)[kind];
  return new Ctor(ab, 0, length);
}

function isMarker(value: unknown): value is Marker {
  if (value === null || typeof value !== "object" || !(MARK in (value as object))) return false;
  // Only files of this pool's directory: a look-alike in user data must not make either side
  // read (and delete) a file of its choosing.
  const [file] = ((value as Marker)[MARK] ?? []) as unknown[];
  return typeof file === "string" && typeof directory === "string" && path.dirname(file) === directory && /^[0-9a-f]{24}$/.test(path.basename(file));
}

/** Undo stashBig on the receiving side (in place: the received values are ours). */
export function restoreBig(values: unknown[]): unknown[] {
  const walk = (value: unknown, depth: number): unknown => {
    if (isMarker(value)) return restore(value);
    if (depth >= MAX_DEPTH || !isPlainContainer(value)) return value;
    for (const key of Object.keys(value)) {
      (value as Record<string, unknown>)[key] = walk((value as Record<string, unknown>)[key], depth + 1);
    }
    return value;
  };
  for (let i = 0; i < values.length; i++) values[i] = walk(values[i], 0);
  return values;
}

/** Delete the files of values that were stashed but will never be read (a task that never ran). */
export function discardStashed(values: unknown[]): void {
  const walk = (value: unknown, depth: number): void => {
    if (isMarker(value)) fs.rmSync(value[MARK][0], { force: true });
    else if (depth < MAX_DEPTH && isPlainContainer(value)) for (const v of Object.values(value)) walk(v, depth + 1);
  };
  for (const v of values) walk(v, 0);
}
