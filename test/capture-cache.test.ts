/**
 * The private cache directory workers load code from: created 0700, refused when it is a
 * symlink, someone else's, writable by others, or not a directory; written atomically.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { captureFunction } from "../dist/pool/capture/index.js";
import { CaptureError } from "../dist/pool/errors.js";

let root: string;
const saved = { ...process.env };
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-capture-cache-"));
});
afterEach(() => {
  for (const key of ["NBPOOL_CACHE_DIR", "XDG_CACHE_HOME", "TMPDIR", "HOME"]) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh function each time, so no earlier capture is reused. */
function freshTask() {
  return new Function("x", `return x + ${n++}`) as (x: number) => number;
}

function refusal(): CaptureError {
  try {
    captureFunction(freshTask(), { role: "task" });
  } catch (error) {
    expect(error).toBeInstanceOf(CaptureError);
    return error as CaptureError;
  }
  throw new Error("expected a CaptureError");
}

describe("the cache directory", () => {
  it("is created 0700 (with a 0700 modules directory) when missing", () => {
    const dir = path.join(root, "made", "deep", "cache");
    process.env.NBPOOL_CACHE_DIR = dir;
    const captured = captureFunction(freshTask(), { role: "task" });
    expect(captured.modulePath.startsWith(path.join(dir, "modules") + path.sep)).toBe(true);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, "modules")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(captured.modulePath).mode & 0o777).toBe(0o600);
  });

  it("defaults to $XDG_CACHE_HOME/nbpool, then falls back to the temp directory when that cannot be made", () => {
    process.env.XDG_CACHE_HOME = path.join(root, "xdg");
    expect(captureFunction(freshTask(), { role: "task" }).modulePath.startsWith(path.join(root, "xdg", "nbpool", "modules"))).toBe(true);

    fs.writeFileSync(path.join(root, "a-file"), "");
    process.env.XDG_CACHE_HOME = path.join(root, "a-file", "cache"); // cannot be created: its parent is a file
    process.env.TMPDIR = path.join(root, "tmp");
    fs.mkdirSync(process.env.TMPDIR);
    const fallback = path.join(root, "tmp", `nbpool-${os.userInfo().uid}`);
    expect(captureFunction(freshTask(), { role: "task" }).modulePath.startsWith(fallback)).toBe(true);
    expect(fs.statSync(fallback).mode & 0o777).toBe(0o700);
  });

  it("refuses a symlink", () => {
    const real = path.join(root, "real");
    fs.mkdirSync(real, { mode: 0o700 });
    const link = path.join(root, "link");
    fs.symlinkSync(real, link);
    process.env.NBPOOL_CACHE_DIR = link;
    const error = refusal();
    expect(error.message).toContain(`the nbpool cache directory ${link} is a symbolic link`);
    expect(error.message).toContain("set NBPOOL_CACHE_DIR to a directory of your own");
  });

  it("refuses a directory writable by others, and a file", () => {
    const open = path.join(root, "open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    process.env.NBPOOL_CACHE_DIR = open;
    expect(refusal().message).toContain(`the nbpool cache directory ${open} is writable by others (mode 777)`);
    const file = path.join(root, "plain-file");
    fs.writeFileSync(file, "");
    process.env.NBPOOL_CACHE_DIR = file;
    expect(refusal().message).toContain(`the nbpool cache directory ${file} is not a directory`);
  });

  it.skipIf(process.getuid?.() !== 0)("refuses a directory owned by another user", () => {
    const theirs = path.join(root, "theirs");
    fs.mkdirSync(theirs, { mode: 0o700 });
    fs.chownSync(theirs, 4321, 4321);
    process.env.NBPOOL_CACHE_DIR = theirs;
    expect(refusal().message).toContain(`the nbpool cache directory ${theirs} belongs to user 4321, not to you (0)`);
  });

  it("lets several processes write the same module at once", async () => {
    const dir = path.join(root, "race");
    const script = `
      const { captureFunction } = require(${JSON.stringify(path.resolve(__dirname, "../dist/pool/capture/index.js"))});
      const c = captureFunction((x) => x * 7, { role: "task" });
      process.stdout.write(c.modulePath);`;
    const env = { ...process.env, NBPOOL_CACHE_DIR: dir };
    const runs = await Promise.all(Array.from({ length: 4 }, () => promisify(execFile)(process.execPath, ["-e", script], { env })));
    const paths = new Set(runs.map((r) => r.stdout));
    expect(paths.size).toBe(1);
    const modulePath = [...paths][0]!;
    expect((require(modulePath) as (d: unknown) => (x: number) => number)({ values: [], fixes: [] })(6)).toBe(42);
    expect(fs.readdirSync(path.join(dir, "modules")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
