/**
 * The standard set of global names a worker is sure to have: the JavaScript built-ins of a
 * fresh V8 context plus the globals Node adds. A cell may have put its own names on
 * globalThis, so globalThis at capture time is not trusted as this list.
 */
import * as vm from "node:vm";

/** What Node (20 and later) puts on globalThis, besides the JavaScript built-ins. */
const NODE_GLOBALS = [
  "process", "global", "Buffer", "console", "setImmediate", "clearImmediate", "setInterval", "clearInterval",
  "setTimeout", "clearTimeout", "queueMicrotask", "structuredClone", "atob", "btoa",
  "URL", "URLSearchParams", "DOMException", "AbortController", "AbortSignal", "Event", "EventTarget", "CustomEvent",
  "TextEncoder", "TextDecoder", "TextEncoderStream", "TextDecoderStream", "CompressionStream", "DecompressionStream",
  "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
  "ReadableByteStreamController", "ReadableStreamDefaultController", "TransformStream", "TransformStreamDefaultController",
  "WritableStream", "WritableStreamDefaultController", "WritableStreamDefaultWriter", "ByteLengthQueuingStrategy",
  "CountQueuingStrategy", "BroadcastChannel", "MessageChannel", "MessagePort", "MessageEvent", "Blob", "File",
  "Performance", "PerformanceEntry", "PerformanceMark", "PerformanceMeasure", "PerformanceObserver",
  "PerformanceObserverEntryList", "PerformanceResourceTiming", "performance", "fetch", "FormData", "Headers",
  "Request", "Response", "crypto", "Crypto", "CryptoKey", "SubtleCrypto", "WebSocket", "CloseEvent", "EventSource",
  "navigator", "Navigator",
];

let standard: Set<string> | undefined;

/** True when `name` is a JavaScript or Node global that every worker has. */
export function isStandardGlobal(name: string): boolean {
  if (!standard) {
    const builtins = vm.runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[];
    standard = new Set([...builtins, ...NODE_GLOBALS]);
  }
  return standard.has(name);
}
