import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { registerHost, type Host, type MimeBundle, type DisplayOptions } from "../dist/pool/host.js";
import { MIN_INTERVAL_MS, createProgress } from "../dist/pool/display/index.js";
import { parseHtmlFragment } from "./display-helpers";

const DIST = resolve(__dirname, "../dist");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DisplayCall {
  context: unknown;
  bundle: MimeBundle;
  options?: DisplayOptions;
}

/** A real Host, registered the way the kernel registers its own, that keeps what it is shown. */
class RecordingHost implements Host {
  readonly calls: DisplayCall[] = [];
  currentContext(): unknown {
    return "cell-7";
  }
  write(): void {}
  display(context: unknown, bundle: MimeBundle, options?: DisplayOptions): void {
    this.calls.push({ context, bundle, options });
  }
  get texts(): string[] {
    return this.calls.map((c) => c.bundle["text/plain"] as string);
  }
  /** The progress <div>'s data-* attributes of each call, parsed with an XML parser. */
  get states(): Array<Record<string, string>> {
    return this.calls.map((c) => {
      const div = parseHtmlFragment(c.bundle["text/html"] as string).getElementsByTagName("div")[0]!;
      return Object.fromEntries(["state", "done", "failed", "total"].map((k) => [k, div.getAttribute(`data-${k}`) ?? ""]));
    });
  }
}

function withHost(): RecordingHost {
  const host = new RecordingHost();
  registerHost(host);
  return host;
}

afterEach(() => registerHost(undefined));

/** The display protocol: one display, then updates of the same display id. */
function expectUpdatedInPlace(host: RecordingHost): void {
  expect(host.calls.length).toBeGreaterThanOrEqual(2);
  const id = host.calls[0]!.options?.displayId;
  expect(id).toMatch(/^nbpool-progress-/);
  expect(host.calls[0]!.options?.update).toBeFalsy();
  for (const c of host.calls.slice(1)) expect(c.options).toEqual({ displayId: id, update: true });
  for (const c of host.calls) expect(c.context).toBe("cell-7");
}

describe("progress in a notebook (a registered host)", () => {
  it("displays at once for a large call, updates the same display, and ends in a readable final state", () => {
    const host = withHost();
    const p = createProgress({ label: "map", total: 1000 });
    for (let i = 1; i <= 1000; i++) p.update(i, i >= 998 ? i - 997 : 0);
    p.finish("done");
    p.update(5, 0); // after finish: ignored
    p.finish("error");

    expectUpdatedInPlace(host);
    // A synchronous burst of 1000 updates is drawn once at the start and once at the end.
    expect(host.calls).toHaveLength(2);
    expect(host.states[0]).toEqual({ state: "running", done: "0", failed: "0", total: "1000" });
    expect(host.states.at(-1)).toEqual({ state: "done", done: "1000", failed: "3", total: "1000" });
    expect(host.texts.at(-1)).toMatch(/^map 1,000\/1,000 ✓ [\d.]+ m?s, [\d,.]+ items\/s, 3 failed$/);
  });

  it("throttles updates to a few per second and keeps the latest state", async () => {
    const host = withHost();
    const p = createProgress({ label: "imap", total: 120 });
    const started = performance.now();
    for (let i = 1; i <= 120; i++) {
      p.update(i);
      await sleep(10);
    }
    const elapsed = performance.now() - started;
    await sleep(MIN_INTERVAL_MS + 50); // the trailing draw of the last update
    const beforeFinish = host.calls.length;
    expect(host.states.at(-1)!.done).toBe("120");
    p.finish("done");

    expectUpdatedInPlace(host);
    expect(beforeFinish).toBeGreaterThanOrEqual(3);
    expect(beforeFinish).toBeLessThanOrEqual(Math.ceil((elapsed + MIN_INTERVAL_MS + 50) / MIN_INTERVAL_MS) + 1);
    const done = host.states.map((s) => Number(s.done));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(host.texts.slice(1, -1).some((t) => /imap \[█*░*\] \d+\/120 · \d+% · .* items\/s · ETA /.test(t))).toBe(true);
    expect(host.states.at(-1)!.state).toBe("done");
  });

  it("finalises on error and on interrupt, with the failures", () => {
    for (const end of ["error", "interrupted", "cancelled"] as const) {
      const host = withHost();
      const p = createProgress({ label: "asCompleted", total: 40, context: "cell-7" });
      p.update(17, 2);
      p.finish(end);
      expectUpdatedInPlace(host);
      expect(host.states.at(-1)).toEqual({ state: end, done: "17", failed: "2", total: "40" });
      const words = { error: "stopped by an error", interrupted: "interrupted", cancelled: "cancelled" }[end];
      expect(host.texts.at(-1)).toMatch(new RegExp(`^asCompleted 17/40 ✗ ${words} after [\\d.]+ m?s, 2 failed$`));
    }
  });

  it("shows nothing for a small quick call, but does show a small call that runs long", async () => {
    const host = withHost();
    const quick = createProgress({ label: "map", total: 3 });
    quick.update(3);
    quick.finish("done");
    expect(host.calls).toHaveLength(0);

    const slow = createProgress({ label: "map", total: 3 });
    slow.update(1);
    await sleep(700);
    slow.update(2);
    slow.finish("done");
    expectUpdatedInPlace(host);
    expect(host.states[0]).toMatchObject({ state: "running", done: "1" });
    expect(host.texts.at(-1)).toMatch(/^map 2\/3 ✓ /);
  });

  it("copes with an unknown total that becomes known", () => {
    const host = withHost();
    const p = createProgress({ label: "imap" });
    p.update(5);
    expect(host.calls).toHaveLength(0);
    p.update(20);
    p.setTotal(20);
    p.finish("done");
    expectUpdatedInPlace(host);
    expect(host.states.at(-1)).toEqual({ state: "done", done: "20", failed: "0", total: "20" });
  });

  it("is off with progress: false or NBPOOL_PROGRESS=0", () => {
    const host = withHost();
    const off = createProgress({ label: "map", total: 100, enabled: false });
    off.update(100);
    off.finish("done");
    process.env.NBPOOL_PROGRESS = "0";
    try {
      const env = createProgress({ label: "map", total: 100 });
      env.update(100);
      env.finish("done");
    } finally {
      delete process.env.NBPOOL_PROGRESS;
    }
    expect(host.calls).toHaveLength(0);
  });

  it("never throws into the pool when the front end fails, and stops drawing", () => {
    let attempts = 0;
    registerHost({
      currentContext: () => undefined,
      write() {},
      display() {
        attempts++;
        throw new Error("iopub socket closed");
      },
    });
    const p = createProgress({ label: "map", total: 100 });
    expect(() => {
      p.update(50);
      p.finish("done");
    }).not.toThrow();
    expect(attempts).toBe(1);
  });
});

const hasScript = existsSync("/usr/bin/script") || existsSync("/bin/script");

function childScript(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "nbpool-progress-"));
  const file = join(dir, "child.js");
  writeFileSync(
    file,
    `const { createProgress } = require(${JSON.stringify(join(DIST, "pool/display/index.js"))});\n` +
      `const { registerHost } = require(${JSON.stringify(join(DIST, "pool/host.js"))});\n${body}\n`,
  );
  return file;
}

const RUN_50 = `
process.stdout.write("isTTY=" + process.stderr.isTTY + "\\n");
const p = createProgress({ label: "map", total: 50 });
let i = 0;
const t = setInterval(() => {
  i += 5;
  p.update(i, i > 40 ? 1 : 0);
  if (i >= 50) { clearInterval(t); p.finish("done"); }
}, 60);`;

describe("progress without a notebook", () => {
  it.skipIf(!hasScript)("draws a one-line bar on a TTY, redrawn with \\r and ended with a newline", () => {
    const file = childScript(RUN_50);
    const run = spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(file)}`, "/dev/null"], { encoding: "utf8", timeout: 30_000 });
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toContain("isTTY=true");
    const frames = out.split("\r").filter((f) => f.startsWith("map "));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames[0]).toMatch(/^map \[░+\] 0\/50 · 0% · .*\x1b\[K$/);
    // the last frame is the final state, followed by the newline (a pty shows it as \r\n)
    expect(out).toMatch(/\rmap 50\/50 ✓ [\d.]+ m?s, [\d.]+ items\/s, 1 failed\x1b\[K\r?\n$/);
    for (const f of frames) expect(f.replace(/\x1b\[K[\s\S]*$/, "").length).toBeLessThan(80);
  });

  it("writes nothing at all when stderr is not a TTY and there is no notebook", () => {
    const run = spawnSync(process.execPath, [childScript(RUN_50)], { encoding: "utf8", timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("isTTY=undefined\n");
    expect(run.stderr).toBe("");
  });

  it("never keeps a process alive, even when the call never finishes", () => {
    const file = childScript(`
let shown = 0;
registerHost({ currentContext: () => 1, write() {}, display() { shown++; } });
const p = createProgress({ label: "map", total: 50 });
p.update(10);
setTimeout(() => p.update(20), 300);
process.on("exit", () => process.stdout.write("displays=" + shown + "\\n"));`);
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 20_000 });
    expect(run.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^displays=[1-9]\d*\n$/);
  });
});
