/**
 * A structural check of a notebook against the nbformat 4.5 JSON schema's rules, written out
 * by hand so that it runs with no Python and no schema library: the keys each part must have
 * and may have, their types, cell ids (pattern, length, unique) and tags. The runner checks
 * what it is about to write; the tests check it too, and against the real schema through
 * Python's nbformat where that is installed.
 */

type Json = Record<string, unknown>;

const TOP_KEYS = ["metadata", "nbformat_minor", "nbformat", "cells"];
const CELL_KEYS: Record<string, { required: string[]; optional: string[] }> = {
  code: { required: ["id", "cell_type", "metadata", "source", "outputs", "execution_count"], optional: [] },
  markdown: { required: ["id", "cell_type", "metadata", "source"], optional: ["attachments"] },
  raw: { required: ["id", "cell_type", "metadata", "source"], optional: ["attachments"] },
};
const OUTPUT_KEYS: Record<string, string[]> = {
  stream: ["output_type", "name", "text"],
  display_data: ["output_type", "data", "metadata"],
  execute_result: ["output_type", "data", "metadata", "execution_count"],
  error: ["output_type", "ename", "evalue", "traceback"],
};
const CELL_ID = /^[a-zA-Z0-9-_]+$/;
const JSON_MIME = /^application\/(.*\+)?json$/;

/** Every way `value` breaks nbformat 4.5, as "path: problem" lines; empty when it is valid. */
export function checkNotebook(value: unknown): string[] {
  const problems: string[] = [];
  const fail = (where: string, what: string) => problems.push(`${where}: ${what}`);
  if (!isObject(value)) return ["notebook: not a JSON object"];
  exactKeys(value, TOP_KEYS, [], "notebook", fail);
  if (value.nbformat !== 4) fail("nbformat", `must be 4, not ${JSON.stringify(value.nbformat)}`);
  if (!isInteger(value.nbformat_minor) || (value.nbformat_minor as number) < 5) fail("nbformat_minor", `must be an integer >= 5, not ${JSON.stringify(value.nbformat_minor)}`);
  checkMetadata(value.metadata, fail);
  if (!Array.isArray(value.cells)) {
    fail("cells", "must be a list");
    return problems;
  }
  const ids = new Set<string>();
  value.cells.forEach((cell, i) => checkCell(cell, `cells[${i}]`, ids, fail));
  return problems;
}

type Fail = (where: string, what: string) => void;

function checkMetadata(metadata: unknown, fail: Fail): void {
  if (!isObject(metadata)) return fail("metadata", "must be an object");
  const { kernelspec, language_info: language } = metadata;
  if (kernelspec !== undefined) {
    if (!isObject(kernelspec)) fail("metadata.kernelspec", "must be an object");
    else for (const key of ["name", "display_name"]) if (typeof kernelspec[key] !== "string") fail(`metadata.kernelspec.${key}`, "must be a string");
  }
  if (language !== undefined) {
    if (!isObject(language)) fail("metadata.language_info", "must be an object");
    else {
      if (typeof language.name !== "string") fail("metadata.language_info.name", "must be a string");
      for (const key of ["file_extension", "mimetype", "pygments_lexer"]) {
        if (language[key] !== undefined && typeof language[key] !== "string") fail(`metadata.language_info.${key}`, "must be a string");
      }
    }
  }
}

function checkCell(cell: unknown, where: string, ids: Set<string>, fail: Fail): void {
  if (!isObject(cell)) return fail(where, "must be an object");
  const keys = CELL_KEYS[String(cell.cell_type)];
  if (!keys) return fail(`${where}.cell_type`, `must be "code", "markdown" or "raw", not ${JSON.stringify(cell.cell_type)}`);
  exactKeys(cell, keys.required, keys.optional, where, fail);
  if (typeof cell.id !== "string" || !CELL_ID.test(cell.id) || cell.id.length > 64) fail(`${where}.id`, `must be 1-64 letters, digits, '-' or '_', not ${JSON.stringify(cell.id)}`);
  else if (ids.has(cell.id)) fail(`${where}.id`, `${JSON.stringify(cell.id)} is used by an earlier cell`);
  else ids.add(cell.id);
  if (!isMultiline(cell.source)) fail(`${where}.source`, "must be a string or a list of strings");
  if (!isObject(cell.metadata)) fail(`${where}.metadata`, "must be an object");
  else checkTags(cell.metadata.tags, `${where}.metadata.tags`, fail);
  if (cell.attachments !== undefined) {
    if (!isObject(cell.attachments)) fail(`${where}.attachments`, "must be an object");
    else for (const [name, bundle] of Object.entries(cell.attachments)) checkBundle(bundle, `${where}.attachments[${JSON.stringify(name)}]`, fail);
  }
  if (cell.cell_type !== "code") return;
  if (!isCount(cell.execution_count)) fail(`${where}.execution_count`, "must be an integer >= 0 or null");
  if (!Array.isArray(cell.outputs)) return fail(`${where}.outputs`, "must be a list");
  cell.outputs.forEach((output, j) => checkOutput(output, `${where}.outputs[${j}]`, fail));
}

function checkTags(tags: unknown, where: string, fail: Fail): void {
  if (tags === undefined) return;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string" && t !== "" && !t.includes(","))) return fail(where, "must be a list of non-empty strings without commas");
  if (new Set(tags).size !== tags.length) fail(where, "must not repeat a tag");
}

function checkOutput(output: unknown, where: string, fail: Fail): void {
  if (!isObject(output)) return fail(where, "must be an object");
  const keys = OUTPUT_KEYS[String(output.output_type)];
  // Unknown output types are allowed by the schema (from a later minor version).
  if (!keys) return;
  exactKeys(output, keys, [], where, fail);
  switch (output.output_type) {
    case "stream":
      if (typeof output.name !== "string") fail(`${where}.name`, "must be a string");
      if (!isMultiline(output.text)) fail(`${where}.text`, "must be a string or a list of strings");
      return;
    case "execute_result":
      if (!isCount(output.execution_count)) fail(`${where}.execution_count`, "must be an integer >= 0 or null");
    // falls through: the rest is display_data's
    case "display_data":
      checkBundle(output.data, `${where}.data`, fail);
      if (!isObject(output.metadata)) fail(`${where}.metadata`, "must be an object");
      return;
    case "error":
      if (typeof output.ename !== "string") fail(`${where}.ename`, "must be a string");
      if (typeof output.evalue !== "string") fail(`${where}.evalue`, "must be a string");
      if (!Array.isArray(output.traceback) || !output.traceback.every((l) => typeof l === "string")) fail(`${where}.traceback`, "must be a list of strings");
      return;
  }
}

function checkBundle(bundle: unknown, where: string, fail: Fail): void {
  if (!isObject(bundle)) return fail(where, "must be an object (a MIME bundle)");
  for (const [mime, data] of Object.entries(bundle)) {
    if (!JSON_MIME.test(mime) && !isMultiline(data)) fail(`${where}[${JSON.stringify(mime)}]`, "must be a string or a list of strings");
  }
}

function exactKeys(value: Json, required: string[], optional: string[], where: string, fail: Fail): void {
  for (const key of required) if (!(key in value)) fail(where, `"${key}" is missing`);
  for (const key of Object.keys(value)) if (!required.includes(key) && !optional.includes(key)) fail(where, `"${key}" is not allowed here`);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value);
}

function isCount(value: unknown): boolean {
  return value === null || (isInteger(value) && (value as number) >= 0);
}

function isMultiline(value: unknown): boolean {
  return typeof value === "string" || (Array.isArray(value) && value.every((l) => typeof l === "string"));
}
