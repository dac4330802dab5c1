/** Shared by the display tests: strict XML parsing of the pictures and tables they produce. */

import { DOMParser, type Document, type Element } from "@xmldom/xmldom";

/** Parse markup with a real XML parser; any warning or error fails the test. */
export function parseXml(markup: string, mime: "image/svg+xml" | "text/xml" = "image/svg+xml"): Document {
  const problems: string[] = [];
  const doc = new DOMParser({
    onError(level, message) {
      problems.push(`${level}: ${message}`);
    },
  }).parseFromString(markup, mime);
  if (problems.length > 0) throw new Error(`XML problems:\n${problems.join("\n")}`);
  return doc;
}

/** Parse an SVG document and check the things every nbpool picture promises. */
export function parseSvg(svg: string): Element {
  const root = parseXml(svg).documentElement!;
  if (root.nodeName !== "svg") throw new Error(`root element is <${root.nodeName}>, not <svg>`);
  if (root.getAttribute("xmlns") !== "http://www.w3.org/2000/svg") throw new Error("missing SVG namespace");
  for (const a of ["width", "height", "viewBox"]) if (!root.getAttribute(a)) throw new Error(`missing ${a}`);
  if (/\b(href|src)=|url\(|@import/.test(svg)) throw new Error("SVG has an external reference");
  if (/NaN|Infinity/.test(svg)) throw new Error("SVG has a NaN or Infinity in it");
  return root;
}

/** HTML fragments nbpool writes are well-formed XML too; parse them as such. */
export function parseHtmlFragment(html: string): Element {
  return parseXml(`<root>${html}</root>`, "text/xml").documentElement!;
}

export function all(root: Element, tag: string): Element[] {
  return Array.from(root.getElementsByTagName(tag)) as Element[];
}

export function byClass(root: Element, tag: string, cls: string): Element[] {
  return all(root, tag).filter((e) => (e.getAttribute("class") ?? "").split(/\s+/).includes(cls));
}

export function textOf(e: Element): string {
  return e.textContent ?? "";
}

/** The text of direct <text> children of an element, in order. */
export function childTexts(e: Element): string[] {
  return Array.from(e.childNodes)
    .filter((n) => n.nodeName === "text")
    .map((n) => n.textContent ?? "");
}
