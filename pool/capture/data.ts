/**
 * Cell-level data a captured function reads: checked once for what structured clone will
 * refuse, versioned by content (its serialized bytes), and searched for instances of
 * classes whose prototype the worker must rebuild.
 */
import * as v8 from "node:v8";
import { createHash } from "node:crypto";
import { types } from "node:util";
import { CaptureError } from "../errors";
import { identifyModuleValue } from "./modules";

/** One step from a value to a part of it. */
export type PathStep = ["p", string] | ["mk", number] | ["mv", number] | ["s", number];

/** An object inside the data whose class the worker must give back to it. */
export interface Instance {
  path: PathStep[];
  ctor: Function;
}

export interface DataSlot {
  /** The value as the cell holds it, for the quick identity check. */
  value: unknown;
  /** Hash of its structured-clone bytes: the content version. */
  hash: string;
  /** What travels: a copy made when the content was read, so later changes in the cell cannot slip in. */
  snapshot: unknown;
  instances: Instance[];
}

/** Prototypes structured clone knows by itself: objects with these need no rebuilding. */
const CLONE_PROTOS = new Set<unknown>(
  [Object, Array, Map, Set, Date, RegExp, Boolean, Number, String, BigInt, ArrayBuffer, SharedArrayBuffer, DataView, Buffer,
    Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError,
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
    BigInt64Array, BigUint64Array].map((ctor) => ctor.prototype),
);
CLONE_PROTOS.add(null);

/** Reads `value` as data: throws CaptureError naming the part that cannot travel. */
export function readData(name: string, value: unknown): DataSlot {
  if (typeof value !== "object" || value === null) {
    if (typeof value === "symbol") throw refuse(name, `\`${name}\` is a Symbol, which cannot be sent to a worker; use a string`);
    if (typeof value === "function") throw refuse(name, `\`${name}\` is a function inside data`);
    return { value, hash: `${typeof value}:${String(value)}`, snapshot: value, instances: [] };
  }
  let bytes: Buffer;
  let snapshot: unknown;
  let instances: Instance[];
  try {
    instances = scan(name, value, undefined).instances;
    bytes = v8.serialize(value);
    snapshot = v8.deserialize(bytes);
  } catch (error) {
    if (error instanceof CaptureError) throw error;
    throw explain(name, value, error);
  }
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 24);
  return { value, hash, snapshot, instances };
}

/**
 * True when `value` still has the content `slot` was read from. The pool asks on every
 * submit, so this compares the live value with the snapshot directly (no serializing);
 * anything unusual answers false, and the caller simply captures again.
 */
export function sameContent(slot: DataSlot, value: unknown): boolean {
  if (value !== slot.value) return false;
  if (typeof value !== "object" || value === null) return true;
  try {
    return sameAs(value, slot.snapshot);
  } catch {
    return false; // a getter threw: capture again, which explains it
  }
}

function sameAs(live: unknown, copy: unknown): boolean {
  const paired = new Map<object, unknown>();
  const stack: unknown[] = [live, copy];
  while (stack.length > 0) {
    const b = stack.pop();
    const a = stack.pop();
    if (typeof a !== "object" || a === null) {
      if (!Object.is(a, b)) return false;
      continue;
    }
    if (typeof b !== "object" || b === null) return false;
    if (paired.has(a)) {
      if (paired.get(a) !== b) return false;
      continue;
    }
    paired.set(a, b);
    if (Array.isArray(a)) {
      if (!Array.isArray(b) || a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) stack.push(a[i], b[i]);
    } else if (ArrayBuffer.isView(a) || types.isAnyArrayBuffer(a)) {
      if (!ArrayBuffer.isView(b) && !types.isAnyArrayBuffer(b)) return false;
      if (!bytesOf(a).equals(bytesOf(b)) || a.constructor !== b.constructor) return false;
    } else if (a instanceof Map || a instanceof Set) {
      if (!(b instanceof Map || b instanceof Set) || a.size !== b.size) return false;
      const bs = [...(b as Map<unknown, unknown>).entries()];
      let i = 0;
      for (const entry of (a as Map<unknown, unknown>).entries()) stack.push(entry[0], bs[i]![0], entry[1], bs[i++]![1]);
    } else if (a instanceof Date || a instanceof RegExp || a instanceof Error) {
      if (String(a) !== String(b) || (a instanceof Date && a.getTime() !== (b as Date).getTime())) return false;
    } else {
      const keys = Object.keys(a);
      const other = Object.keys(b);
      if (keys.length !== other.length) return false;
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] !== other[i]) return false;
        stack.push((a as Record<string, unknown>)[keys[i]!], (b as Record<string, unknown>)[keys[i]!]);
      }
    }
  }
  return true;
}

function bytesOf(view: ArrayBufferView | ArrayBufferLike): Buffer {
  return ArrayBuffer.isView(view) ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : Buffer.from(view);
}

/** A pool object: the registry of live pools knows it, or it looks like one. */
export function isPool(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const registry = (globalThis as Record<symbol, unknown>)[Symbol.for("nbpool.pools")];
  if (registry instanceof Set || registry instanceof WeakSet) {
    if ((registry as WeakSet<object>).has(value)) return true;
  } else if (registry instanceof Map && registry.has(value)) return true;
  const v = value as { constructor?: { name?: string }; submit?: unknown; map?: unknown };
  try {
    return v.constructor?.name === "Pool" && typeof v.submit === "function" && typeof v.map === "function";
  } catch {
    return false; // a getter or Proxy trap that throws: not a pool; reading it as data explains the rest
  }
}

export const POOL_MESSAGE =
  "pools cannot be sent to workers, and a task cannot use its own pool: call the pool in the cell and pass the task what it needs";

/** A class from a module or from Node itself: its instances are live things (sockets, streams), not cell data. */
function isForeignClass(ctor: Function): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(ctor)) || identifyModuleValue(ctor) !== undefined;
}

/** A place in the data; paths are linked to their parent, so deep data costs no copying. */
interface Visit {
  value: unknown;
  parent?: Visit;
  step?: PathStep;
  /** The nearest enclosing instance of a class that is not plain data (a socket, an emitter). */
  holder?: Visit;
}

function pathOf(visit: Visit): PathStep[] {
  const path: PathStep[] = [];
  for (let v: Visit | undefined = visit; v?.step; v = v.parent) path.push(v.step);
  return path.reverse();
}

/**
 * Walks the data (iteratively: deep data must not overflow the stack; a visited set: cycles
 * are fine). Records instances of user classes; throws CaptureError at the first part that
 * cannot travel; rethrows `failure` (a clone's error) when it finds nothing to blame.
 */
function scan(name: string, root: unknown, failure: unknown): { instances: Instance[] } {
  const instances: Instance[] = [];
  const seen = new Set<object>();
  const stack: Visit[] = [{ value: root }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { value, holder } = visit;
    const where = () => render(name, pathOf(visit));
    if (typeof value === "function") {
      if (holder) throw refuseHolder(name, holder, `\`${where()}\` is a function`);
      throw refuse(where(), `\`${where()}\` is a function inside data; only plain data is sent as a value. Make it a cell-level function and call it by name from the task`);
    }
    if (typeof value === "symbol") throw refuse(where(), `\`${where()}\` is a Symbol, which cannot be sent to a worker; use a string`);
    if (typeof value !== "object" || value === null || seen.has(value)) continue;
    seen.add(value);
    if (isPool(value)) throw refuse(where(), `\`${where()}\` is a Pool: ${POOL_MESSAGE}`);
    if (types.isPromise(value)) throw refuse(where(), `\`${where()}\` is a Promise, which cannot be sent to a worker; await it in the cell and use its result`);
    if (types.isWeakMap(value) || types.isWeakSet(value) || value instanceof WeakRef) {
      throw refuse(where(), `\`${where()}\` is a ${value.constructor.name}, which structured clone cannot copy; use a Map or Set`);
    }
    if (ArrayBuffer.isView(value) || types.isAnyArrayBuffer(value) || value instanceof Date || value instanceof RegExp) continue;
    const proto = Object.getPrototypeOf(value) as object | null;
    let inner = holder;
    if (!CLONE_PROTOS.has(proto) && !(value instanceof Error)) {
      const ctor = (proto as { constructor?: unknown } | null)?.constructor;
      if (typeof ctor === "function") {
        instances.push({ path: pathOf(visit), ctor });
        if (isForeignClass(ctor)) inner = visit;
      }
    }
    const push = (child: unknown, step: PathStep) => {
      // Arrays of numbers are common and large: skip what cannot hold anything.
      if ((typeof child === "object" && child !== null) || typeof child === "function" || typeof child === "symbol") {
        stack.push({ value: child, parent: visit, step, holder: inner });
      }
    };
    if (value instanceof Map) {
      let i = 0;
      for (const [k, v] of value) {
        push(k, ["mk", i]);
        push(v, ["mv", i++]);
      }
      continue;
    }
    if (value instanceof Set) {
      let i = 0;
      for (const v of value) push(v, ["s", i++]);
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      let child: unknown;
      try {
        child = (value as Record<string, unknown>)[key];
      } catch (error) {
        const at = render(name, [...pathOf(visit), ["p", key]]);
        throw refuse(at, `reading \`${at}\` threw ${describe(error)}; nbpool reads data when it sends it, so its getters must not throw`, error);
      }
      push(child, ["p", key]);
    }
  }
  if (failure !== undefined) throw failure;
  return { instances };
}

/** A clone failed: find the part to blame and say what to do. */
function explain(name: string, value: unknown, error: unknown): CaptureError {
  if (error instanceof RangeError) {
    return refuse(name, `\`${name}\` is nested too deeply to send to a worker (${error.message}); flatten it or build it inside the task`, error);
  }
  try {
    scan(name, value, error);
  } catch (found) {
    if (found instanceof CaptureError) return found;
  }
  return refuse(name, `\`${name}\` cannot be sent to a worker: structured clone refused it (${describe(error)})`, error);
}

function refuseHolder(name: string, holder: Visit, detail: string): CaptureError {
  const where = render(name, pathOf(holder));
  const ctor = (Object.getPrototypeOf(holder.value) as { constructor: Function }).constructor;
  const cls = ctor.name || "an object of a class";
  return refuse(
    where,
    `\`${where}\` is a ${cls}, which holds live state (${detail}) and cannot be sent to a worker; create it inside the task, or pass the plain data it holds`,
  );
}

function refuse(identifier: string, message: string, cause?: unknown): CaptureError {
  return new CaptureError(message, { identifier, cause });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** `config.items[2]`, `lookup.get(#3)`: a path in words, for messages. */
export function render(name: string, path: PathStep[]): string {
  let out = name;
  for (const [kind, key] of path) {
    if (kind === "p") out += /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : /^\d+$/.test(key) ? `[${key}]` : `[${JSON.stringify(key)}]`;
    else if (kind === "mk") out += `<key #${key}>`;
    else if (kind === "mv") out += `<value #${key}>`;
    else out += `<item #${key}>`;
  }
  return out;
}
