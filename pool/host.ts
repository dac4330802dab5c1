/**
 * The pool's only window onto a front end. The nbpool kernel registers a host at start-up;
 * with none (plain Node, vitest, the stock tslab kernel) the pool writes worker output to
 * its own stdout/stderr and shows progress on a TTY only.
 *
 * The host lives on globalThis so that every copy of nbpool loaded in a process (the
 * kernel's and one in a notebook's node_modules) sees the same one.
 */

/** A MIME bundle as Jupyter understands it: MIME type -> data. */
export type MimeBundle = Record<string, unknown>;

/** A compiled cell exactly as V8 ran it; `url` is its sourceURL, so stack frames name it. */
export interface CellScript {
  url: string;
  source: string;
}

export interface DisplayOptions {
  /** Display id, so that a later call with `update: true` replaces the output in place. */
  displayId?: string;
  update?: boolean;
}

export interface Host {
  /** The context (the running cell) of the code calling the pool now; stored on each task. */
  currentContext(): unknown;
  /** Text a worker wrote on behalf of a task submitted in `context`. */
  write(context: unknown, stream: "stdout" | "stderr", text: string): void;
  /** Show, or update in place, a MIME bundle in the output of `context`. */
  display(context: unknown, bundle: MimeBundle, options?: DisplayOptions): void;
  /** The compiled cells, for capture (where a function came from) and stack mapping. */
  cells?(): Iterable<CellScript>;
}

const HOST = Symbol.for("nbpool.host");
type WithHost = { [HOST]?: Host };

export function registerHost(host: Host | undefined): void {
  (globalThis as WithHost)[HOST] = host;
}

export function getHost(): Host | undefined {
  return (globalThis as WithHost)[HOST];
}
