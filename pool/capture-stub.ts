// TEMPORARY until pool/capture/index.ts lands: self-contained functions only.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
const cache = new WeakMap<Function, { key: string; modulePath: string; data: unknown }>();
export function captureFunction(fn: Function, _o: { role: string }) {
  let c = cache.get(fn);
  if (c) return c;
  const src = fn.toString();
  const text = `module.exports = function build(data) { return (${src}); };\n`;
  const key = crypto.createHash("sha256").update(text).digest("hex").slice(0, 32);
  const dir = path.join(os.tmpdir(), `nbpool-stub-${process.getuid?.()}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const modulePath = path.join(dir, `${key}.js`);
  if (!fs.existsSync(modulePath)) fs.writeFileSync(modulePath, text);
  c = { key, modulePath, data: undefined };
  cache.set(fn, c);
  return c;
}
export function mapStack(s: string) { return s; }
