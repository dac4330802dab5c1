/**
 * Errors across the process boundary. Structured clone keeps an Error's message and stack
 * but drops its class (for anything but the built-ins), its custom fields and often its
 * cause, so errors travel as plain records and are rebuilt on the owner's side:
 * built-in classes come back as themselves (`instanceof RangeError` holds), others as a
 * RemoteError that keeps the remote class name. Used by both sides; keep it dependency-free
 * (the worker loads it at start-up).
 */
import { inspect } from "node:util";
import { RemoteError } from "./errors";

export interface WireError {
  /** Constructor name in the worker ("RangeError", "ValidationError"). */
  ctor: string;
  name: string;
  message: string;
  stack: string;
  /** Own enumerable fields (`code`, `errno`...), each structured-cloneable. */
  props?: Record<string, unknown>;
  cause?: WireError | { value: unknown };
  /** AggregateError's errors. */
  errors?: WireError[];
  /** A thrown value that was not an Error at all (`throw "nope"`). */
  thrown?: { value: unknown; text: string };
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor | undefined> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
};
const SKIPPED_PROPS = new Set(["name", "message", "stack", "cause", "errors"]);
const MAX_DEPTH = 8;

// node:v8 loads on the first error, not at every worker's start.
const serialize = (value: unknown): Buffer => (require("node:v8") as typeof import("node:v8")).serialize(value);

function cloneable(value: unknown): boolean {
  if (value === null || typeof value !== "object" && typeof value !== "function") return typeof value !== "symbol";
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

/** Worker side: turn anything thrown into a record that survives structured clone. */
export function encodeError(err: unknown, depth = 0): WireError {
  if (!isError(err) || depth > MAX_DEPTH) {
    const text = safeString(() => inspect(err, { depth: 2, breakLength: Infinity }), "<a value that cannot be inspected>");
    return {
      ctor: "Error",
      name: "Error",
      message: `a non-Error value was thrown: ${text}`,
      stack: "",
      thrown: { value: cloneable(err) ? err : text, text },
    };
  }
  let ctor = "Error";
  try {
    ctor = (err.constructor && err.constructor.name) || "Error";
  } catch {
    // A hostile constructor getter; the name is enough.
  }
  const wire: WireError = {
    ctor,
    name: safeString(() => err.name, "Error"),
    message: safeString(() => err.message, ""),
    stack: safeString(() => err.stack, ""),
  };
  const props: Record<string, unknown> = {};
  let hasProps = false;
  let keys: string[] = [];
  try {
    keys = Object.keys(err);
  } catch {
    // A Proxy whose ownKeys trap throws: its fields are lost, its message is not.
  }
  for (const key of keys) {
    if (SKIPPED_PROPS.has(key)) continue;
    let value: unknown;
    try {
      value = (err as unknown as Record<string, unknown>)[key];
    } catch (e) {
      value = `<getter threw: ${String(e)}>`;
    }
    props[key] = cloneable(value) ? value : safeString(() => inspect(value, { depth: 2 }), "<a value that cannot be inspected>");
    hasProps = true;
  }
  if (hasProps) wire.props = props;
  let cause: unknown;
  try {
    cause = err.cause;
  } catch (e) {
    cause = `<the cause getter threw: ${safeString(() => e, "?")}>`;
  }
  if (cause !== undefined) {
    wire.cause = isError(cause) ? encodeError(cause, depth + 1) : { value: cloneable(cause) ? cause : safeString(() => inspect(cause), "<a value that cannot be inspected>") };
  }
  try {
    if (err instanceof AggregateError && Array.isArray(err.errors)) wire.errors = err.errors.map((e) => encodeError(e, depth + 1));
  } catch {
    // A hostile AggregateError look-alike: its errors are lost, its message is not.
  }
  return wire;
}

/** `instanceof` runs a Proxy's getPrototypeOf trap, which may throw (a revoked proxy always does). */
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

function safeString(get: () => unknown, fallback: string): string {
  try {
    const v = get();
    return v === undefined ? fallback : String(v);
  } catch {
    return fallback;
  }
}

/** Owner side: rebuild the error, its class when built in, its fields, its cause chain. */
export function decodeError(wire: WireError, mapStack: (stack: string) => string = (s) => s): Error {
  let err: Error;
  const Builtin = BUILTIN_ERRORS[wire.ctor];
  if (wire.ctor === "AggregateError") {
    err = new AggregateError((wire.errors ?? []).map((e) => decodeError(e, mapStack)), wire.message);
  } else if (wire.ctor === "DOMException") {
    err = new DOMException(wire.message, wire.name);
  } else if (Builtin) {
    err = new Builtin(wire.message);
    if (wire.name !== Builtin.name) Object.defineProperty(err, "name", { value: wire.name, configurable: true, writable: true });
  } else {
    // A subclass that does not set `name` still says "Error": its class name says more.
    err = new RemoteError(wire.name && wire.name !== "Error" ? wire.name : wire.ctor, wire.message);
  }
  if (wire.props) Object.assign(err, wire.props);
  if (wire.thrown) Object.defineProperty(err, "thrown", { value: wire.thrown.value, enumerable: false, configurable: true, writable: true });
  if (wire.cause) {
    const cause = "value" in wire.cause ? wire.cause.value : decodeError(wire.cause as WireError, mapStack);
    Object.defineProperty(err, "cause", { value: cause, configurable: true, writable: true });
  }
  const remote = wire.stack ? mapStack(wire.stack) : `${wire.name}: ${wire.message}`;
  Object.defineProperty(err, "stack", { value: remote, configurable: true, writable: true });
  return err;
}
