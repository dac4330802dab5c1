/**
 * A tiny SVG writer. Elements are built as strings; every attribute value and every piece
 * of text goes through `esc`, and every coordinate through `num`, so whatever a label holds
 * (a pid, an error reason, a user's series name) the document stays well-formed XML.
 * Documents are self-contained: no external fonts, stylesheets or images.
 */

export type Attrs = Record<string, string | number | undefined>;

/** Fonts every platform has; no quotes needed (CSS accepts unquoted multi-word names). */
export const FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif";
export const FONT_SIZE = 11;
export const TEXT_COLOUR = "#222";
export const MUTED_COLOUR = "#666";

/**
 * Escape for XML text and attribute values, and drop the characters XML 1.0 forbids
 * outright (C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF):
 * no escape makes those legal, and a single one makes the whole picture unparseable.
 */
export function esc(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "")
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** A coordinate: at most two decimals, never NaN/Infinity (which SVG renderers reject). */
export function num(n: number): string {
  if (!Number.isFinite(n)) return "0";
  const rounded = Math.round(n * 100) / 100;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

function attrString(attrs: Attrs): string {
  let out = "";
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    out += ` ${name}="${typeof value === "number" ? num(value) : esc(value)}"`;
  }
  return out;
}

/** An element; children are already-built markup (use `txt` for text content). */
export function el(name: string, attrs: Attrs = {}, ...children: string[]): string {
  const body = children.join("");
  return body === "" ? `<${name}${attrString(attrs)}/>` : `<${name}${attrString(attrs)}>${body}</${name}>`;
}

/** Escaped text content. */
export function txt(value: string): string {
  return esc(value);
}

/** A text label at (x, y). */
export function label(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el("text", { x, y, ...attrs }, txt(content));
}

/** A rectangle, with an optional tooltip (a <title> child, shown on hover where inline). */
export function rect(x: number, y: number, width: number, height: number, attrs: Attrs = {}, tooltip?: string): string {
  return el("rect", { x, y, width: Math.max(0, width), height: Math.max(0, height), ...attrs }, tooltip ? el("title", {}, txt(tooltip)) : "");
}

export function line(x1: number, y1: number, x2: number, y2: number, attrs: Attrs = {}): string {
  return el("line", { x1, y1, x2, y2, ...attrs });
}

/** A whole document: width/height/viewBox set, a white background so dark themes stay legible. */
export function svgDocument(width: number, height: number, title: string, body: string[], attrs: Attrs = {}): string {
  return el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      width: Math.ceil(width),
      height: Math.ceil(height),
      viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`,
      "font-family": FONT_FAMILY,
      "font-size": FONT_SIZE,
      fill: TEXT_COLOUR,
      role: "img",
      ...attrs,
    },
    el("title", {}, txt(title)),
    rect(0, 0, Math.ceil(width), Math.ceil(height), { fill: "#fff" }),
    ...body,
  );
}
