/**
 * MIME bundles: the last expression's value (execute_result), tslab's display API and the
 * pool's displays (display_data / update_display_data).
 *
 * A value is shown as Node's REPL would print it (util.inspect, no colours) in text/plain;
 * a value with a `[Symbol.for("Jupyter.display")]()` method (Deno's convention, followed by
 * nbpool's own stats and timelines) adds the bundle that method returns.
 */

import { inspect } from "util";
import type { MimeBundle } from "./engine";
import type { OutputRouter, OutputTarget } from "./output";

export const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

export interface DisplayResult {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

/**
 * The bundle of a value: text/plain, plus what its display method returns (a failing one
 * falls back to text). Synchronous unless the display method returns a promise.
 */
export function resultBundle(value: unknown): DisplayResult | Promise<DisplayResult> {
  const text = plainText(value);
  const compose = (rich: MimeBundle | undefined): DisplayResult => ({ data: { "text/plain": text, ...(rich ?? {}) }, metadata: {} });
  const rich = richBundle(value);
  return rich instanceof Promise ? rich.then(compose) : compose(rich);
}

/** util.inspect as the REPL prints results (no colours: notebooks strip nothing). */
export function plainText(value: unknown): string {
  try {
    hideAsyncBookkeeping(value, INSPECT_DEPTH + 1, new Set());
    return inspect(value, { colors: false, depth: INSPECT_DEPTH, showProxy: false });
  } catch (err) {
    return `[value that cannot be inspected: ${(err as Error)?.message ?? err}]`;
  }
}

const INSPECT_DEPTH = 2;
/** Node's async_hooks (which AsyncLocalStorage turns on) tags promises with these. */
const BOOKKEEPING = new Set(["async_id_symbol", "trigger_async_id_symbol", "kResourceStore"]);
const MAX_VISITS = 1000;
const MAX_CHILDREN = 100;

/**
 * Promises made while a cell runs carry async_hooks' enumerable symbol properties (one of
 * them the whole cell run); inspect would print them. Make them non-enumerable, down to
 * the depth inspect shows.
 */
function hideAsyncBookkeeping(value: unknown, depth: number, seen: Set<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value) || seen.size > MAX_VISITS || depth < 0) return;
  seen.add(value);
  try {
    if (value instanceof Promise) {
      for (const key of Object.getOwnPropertySymbols(value)) {
        if (BOOKKEEPING.has(key.description ?? "")) Object.defineProperty(value, key, { enumerable: false });
      }
    }
    const children: unknown[] = value instanceof Map ? [...value.values()] : value instanceof Set ? [...value] : [];
    // Data properties only: inspect shows getters without calling them, so must we.
    for (const key of Reflect.ownKeys(value).slice(0, MAX_CHILDREN)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && "value" in descriptor) children.push(descriptor.value);
    }
    for (const child of children.slice(0, MAX_CHILDREN)) hideAsyncBookkeeping(child, depth - 1, seen);
  } catch {
    // Getters that throw, revoked proxies: inspect will say what it can.
  }
}

function richBundle(value: unknown): MimeBundle | undefined | Promise<MimeBundle | undefined> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  const accept = (bundle: unknown) => (bundle !== null && typeof bundle === "object" ? normalizeBundle(bundle as MimeBundle) : undefined);
  try {
    const method = (value as Record<symbol, unknown>)[JUPYTER_DISPLAY];
    if (typeof method !== "function") return undefined;
    const bundle: unknown = method.call(value);
    if (bundle instanceof Promise) return bundle.then(accept, () => undefined);
    return accept(bundle);
  } catch {
    return undefined;
  }
}

/** Binary data travels base64-encoded in JSON (what tslab's display does for images). */
export function normalizeBundle(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, data] of Object.entries(bundle)) {
    out[mime] = data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") : data;
  }
  return out;
}

/** display_data, or update_display_data of an earlier display with the same id. */
export function publishDisplay<T extends OutputTarget>(
  router: OutputRouter<T>,
  target: T | undefined,
  bundle: MimeBundle,
  options: { displayId?: string; update?: boolean; metadata?: Record<string, unknown> } = {},
): void {
  const update = options.update === true && options.displayId !== undefined;
  router.publish(target, update ? "update_display_data" : "display_data", {
    data: normalizeBundle(bundle),
    metadata: options.metadata ?? {},
    transient: options.displayId !== undefined ? { display_id: options.displayId } : {},
  });
}

/**
 * tslab's `display` API (tslab/dist/public.js) publishes through the function stored in
 * `require("tslab/dist/jupyter").lastWriteDisplayData`: make it publish to the current cell.
 */
export function routeTslabDisplay<T extends OutputTarget>(jupyter: { lastWriteDisplayData: unknown }, router: OutputRouter<T>): void {
  jupyter.lastWriteDisplayData = (message: { data?: MimeBundle; metadata?: Record<string, unknown>; transient?: { display_id?: string } }, update: boolean) => {
    publishDisplay(router, undefined, message.data ?? {}, {
      displayId: message.transient?.display_id,
      update,
      metadata: message.metadata,
    });
  };
}

/**
 * The cells' global `display(value, options?)` (declared in types/nbpool-kernel): IPython's
 * display() for TypeScript, honouring the Jupyter.display convention.
 */
export function installGlobalDisplay<T extends OutputTarget>(router: OutputRouter<T>): void {
  const display = (value: unknown, options: { displayId?: string; update?: boolean } = {}): void => {
    const target = router.current();
    const bundle = resultBundle(value);
    if (bundle instanceof Promise) void bundle.then(({ data }) => publishDisplay(router, target, data, options));
    else publishDisplay(router, target, bundle.data, options);
  };
  Object.defineProperty(globalThis, "display", { value: display, writable: true, configurable: true, enumerable: false });
}
