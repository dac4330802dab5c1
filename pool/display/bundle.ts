/**
 * The display convention every nbpool picture follows.
 *
 * A displayable object has a `[Symbol.for("Jupyter.display")]()` method returning a MIME
 * bundle (Deno's convention; the nbpool kernel honours it). The bundle always carries
 * `text/plain`, and `toString()` / `util.inspect` give the same text, so a saved notebook,
 * a terminal and `console.log` all read well without a rich front end.
 */

import { inspect } from "node:util";
import type { MimeBundle } from "../host";

export type { MimeBundle };

/**
 * The method name a front end looks for; `Symbol.for` so every copy of nbpool agrees.
 * (`Symbol.for` is typed as plain `symbol`; declaring it `unique symbol` is what lets a
 * class use it as a method name.)
 */
export const DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

export abstract class Displayable {
  /** The plain-text form: what a terminal or a text-only notebook viewer shows. */
  abstract toText(): string;

  /** The rich forms (text/html, image/svg+xml); text/plain is added by the caller. */
  protected abstract richBundle(): MimeBundle;

  [DISPLAY](): MimeBundle {
    return { ...this.richBundle(), "text/plain": this.toText() };
  }

  toString(): string {
    return this.toText();
  }

  [inspect.custom](): string {
    return this.toText();
  }
}

/** A value that follows the convention, whichever copy of nbpool (or Deno library) made it. */
export function isDisplayable(value: unknown): value is { [DISPLAY](): MimeBundle } {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as Record<symbol, unknown>)[DISPLAY] === "function"
  );
}

/** The MIME bundle of a displayable value, or undefined for anything else. */
export function displayBundle(value: unknown): MimeBundle | undefined {
  return isDisplayable(value) ? value[DISPLAY]() : undefined;
}

/** Escape text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
