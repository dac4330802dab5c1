/**
 * Globals the nbpool kernel gives every cell. Compiled to dist/kernel/types/nbpool-kernel/
 * index.d.ts, a type root the kernel adds to the cell compiler (type-lookup.ts); the values
 * are set by the engine (display.ts).
 */

export {};

declare global {
  /**
   * Shows `value` in the cell's output now, as IPython's `display()` does: the MIME bundle
   * of its `[Symbol.for("Jupyter.display")]()` method when it has one (nbpool's stats and
   * timelines do), else its `util.inspect` text. With `displayId`, a later call with the
   * same id and `update: true` replaces that output in place.
   */
  function display(value: unknown, options?: { displayId?: string; update?: boolean }): void;
}
