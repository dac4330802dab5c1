/**
 * nbpool as users meet it: the first teaching notebook in Jupyter's web UI (Debian's classic
 * Notebook 6), in a real browser (Debian's Chromium, headless, driven by playwright-core).
 * Run All, then what a person would look at: the progress bars ended, the timeline drawn, the
 * worker's error in red pointing at the cell and line that threw; then a long map stopped
 * with the toolbar's interrupt button, and the next cell run on the same pool. Screenshots of
 * those cells go to docs/ (the README shows them).
 *
 * Not part of `npm test` (it starts a server, a kernel and a browser, and rewrites tracked
 * PNGs): `npm run test:e2e` runs it, and CI after `npm test`. It skips, saying why, where
 * chromium or jupyter-notebook is missing:
 *   apt-get install jupyter-notebook chromium
 */

import * as fs from "node:fs";
import * as path from "node:path";
import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, openBrowser, type Browser } from "./browser";
import { JUPYTER_NOTEBOOK, NotebookServer, notebookVersion } from "./jupyter-server";
import { NotebookPage } from "./notebook-page";

const repoRoot = path.resolve(__dirname, "..", "..");
/** Where the screenshots go; NBPOOL_E2E_SHOTS moves them (to keep docs/ untouched, say). */
const shotsDir = path.resolve(repoRoot, process.env.NBPOOL_E2E_SHOTS ?? "docs");

const missing = [CHROMIUM, JUPYTER_NOTEBOOK].filter((exe) => !fs.existsSync(exe));
const skipReason = missing.length > 0 ? `${missing.join(" and ")} not installed (apt-get install jupyter-notebook chromium)` : undefined;
if (skipReason) console.warn(`[e2e] skipped: ${skipReason}`);

/**
 * The first teaching notebook; until it exists, a stand-in with the same ingredients.
 * NBPOOL_E2E_NOTEBOOK=path runs another one.
 */
function notebookUnderTest(): string {
  if (process.env.NBPOOL_E2E_NOTEBOOK) return path.resolve(process.env.NBPOOL_E2E_NOTEBOOK);
  const dir = path.join(repoRoot, "notebooks");
  const first = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^01-.*\.ipynb$/.test(f)).sort()[0] : undefined;
  return first ? path.join(dir, first) : path.join(__dirname, "fixtures", "tour.ipynb");
}

const notebook = notebookUnderTest();
let server: NotebookServer | undefined;
let browser: Browser | undefined;
let nb: NotebookPage;

beforeAll(async () => {
  if (skipReason) return;
  // The page is driven by the classic Notebook's DOM; Notebook 7 is a JupyterLab page.
  const version = notebookVersion();
  if (!version.startsWith("6.")) throw new Error(`this test drives the classic Notebook 6 page; ${JUPYTER_NOTEBOOK} is version ${version}`);
  server = await NotebookServer.start([notebook]);
  browser = await openBrowser();
  nb = new NotebookPage(browser.page);
  await nb.open(server, path.basename(notebook));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** What the server and the page said: attached to failures, where a bare timeout says nothing. */
function diagnostics(): string {
  return `\n--- page console ---\n${browser?.console.slice(-40).join("\n")}\n--- server log ---\n${server?.log.slice(-6000)}`;
}

async function withDiagnostics<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    (err as Error).message += diagnostics();
    throw err;
  }
}

/** The code cell that holds `inner`. */
function cellOf(inner: Locator): Locator {
  return nb.codeCells.filter({ has: inner });
}

/**
 * A worker error box: after "Remote traceback", the frame `Cell In[N], line L, in fn` names a
 * cell of the page by its execution count, `----> L` shows line L of that cell, and that
 * line throws. The error's name is in the notebook's ANSI red.
 */
async function expectErrorPointsAtThrow(box: Locator): Promise<void> {
  const text = await box.innerText();
  const remote = text.slice(text.indexOf("Remote traceback"));
  const frame = /Cell In\[(\d+)\], line (\d+), in \S+/.exec(remote);
  expect(frame, text).not.toBeNull();
  const [, count, line] = frame!.map(Number);
  const arrow = new RegExp(`----> ${line} (.*)`).exec(remote.slice(frame!.index));
  expect(arrow, text).not.toBeNull();
  const defining = nb.codeCells.filter({ has: nb.page.locator(".input_prompt", { hasText: `[${count}]` }) });
  expect(await defining.count(), `the cell In [${count}]`).toBe(1);
  const source = (await nb.source(defining)).split("\n")[line - 1];
  expect(arrow![1].trim()).toBe(source.trim());
  expect(source).toMatch(/throw/);

  const [r, g, b] = (await box.locator(".ansi-red-fg").last().evaluate((el) => getComputedStyle(el).color)).match(/\d+/g)!.map(Number);
  expect(r).toBeGreaterThan(150);
  expect(r).toBeGreaterThan(g + 60);
  expect(r).toBeGreaterThan(b + 60);
}

describe(`${path.relative(repoRoot, notebook)} in Jupyter Notebook, in Chromium`, { timeout: 300_000 }, () => {
  it("runs on the nbpool kernel", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    expect(await nb.kernelImplementation()).toBe("nbpool");
  });

  it("Run All: every cell runs, and only cells tagged raises-exception show an error", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await nb.runAll();
    await withDiagnostics(nb.waitUntilSettled(240_000));

    const cells = await nb.codeCells.all();
    const tags = await nb.codeCellTags();
    expect(tags.length).toBe(cells.length);
    for (const [i, cell] of cells.entries()) {
      const source = await nb.source(cell);
      if (source.trim() === "") continue;
      expect(await nb.executionCount(cell), `code cell ${i + 1} ran:\n${source}`).toBeGreaterThan(0);
      const errors = await cell.locator(".output_error").allInnerTexts();
      if (!tags[i].includes("raises-exception")) expect(errors, `code cell ${i + 1}:\n${source}`).toEqual([]);
    }
  });

  it("shows each progress bar at its end, a finished map's bar full", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const bars = nb.page.locator(".output_html .nbpool-progress");
    expect(await bars.count()).toBeGreaterThan(0);
    // The last update reached the page: no bar is left drawn as running.
    expect(await nb.page.locator('.nbpool-progress[data-state="running"]').count()).toBe(0);
    const finished = nb.page.locator('.output_html .nbpool-progress[data-state="done"]').first();
    await expect.poll(() => finished.isVisible()).toBe(true);
    const total = await finished.getAttribute("data-total");
    expect(Number(total)).toBeGreaterThan(0);
    expect(await finished.getAttribute("data-done")).toBe(total);
    expect(await finished.innerText()).toMatch(new RegExp(`${Number(total).toLocaleString("en-US")}/${Number(total).toLocaleString("en-US")} ✓`));
    // The bar's filled part spans the whole track.
    const [track, fill] = await finished.locator("span").evaluateAll((spans) => spans.slice(0, 2).map((s) => s.getBoundingClientRect().width));
    expect(fill).toBeGreaterThan(0);
    expect(Math.abs(track - fill)).toBeLessThan(1);
  });

  it("draws pool.timeline() as an inline SVG with its worker lanes", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const svg = nb.page.locator(".output_svg svg").filter({ has: nb.page.locator("title", { hasText: /^nbpool timeline/ }) }).first();
    await expect.poll(() => svg.isVisible()).toBe(true);
    const box = (await svg.boundingBox())!;
    expect(box.width).toBeGreaterThan(300);
    expect(box.height).toBeGreaterThan(50);
    expect(await svg.locator("text", { hasText: /^worker \d+ · pid \d+$/ }).count()).toBeGreaterThan(0);

    const first = cellOf(nb.page.locator(".nbpool-progress").first()).first();
    await nb.screenshotCells(path.join(shotsDir, "jupyter-progress-timeline.png"), first, cellOf(svg));
  });

  // The notebook runs to its end under Run All by design; the error and the interrupt are
  // shown in cells typed in after it, on a pool of their own, as a person trying things would.
  it("shows a worker's error in red, pointing at the cell and line that threw", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const setup = await nb.appendCodeCell('import { Pool } from "nbpool";\n\nconst more = new Pool({ maxWorkers: 2 });');
    await nb.run(setup);
    await withDiagnostics(nb.waitUntilAnswered(setup, 60_000));
    expect(await setup.locator(".output_error").count()).toBe(0);

    const typed = await nb.appendCodeCell(
      ["function check(x: number): number {", "  if (x === 3) {", "    throw new RangeError(`bad input ${x}`);", "  }", "  return x * x;", "}", "", "await more.map(check, [1, 2, 3, 4]);"].join("\n"),
    );
    await nb.run(typed);
    await withDiagnostics(nb.waitUntilAnswered(typed, 60_000));

    // Every worker error on the page (the notebook's own, if it has any, and the typed one).
    const boxes = await nb.page.locator(".output_error", { hasText: "Remote traceback" }).all();
    expect(boxes.length).toBeGreaterThan(0);
    expect(await typed.locator(".output_error", { hasText: "Remote traceback" }).count()).toBe(1);
    expect(await typed.locator(".output_error").innerText()).toMatch(new RegExp(`Cell In\\[${await nb.executionCount(typed)}\\], line 3, in check`));
    for (const box of boxes) await expectErrorPointsAtThrow(box);

    await nb.screenshotCells(path.join(shotsDir, "jupyter-worker-error.png"), typed);
  });

  it("the interrupt button ends a long map; the next cell runs on the same pool", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const long = await nb.appendCodeCell(
      [
        "// A long map: press ■ (interrupt) while it runs.",
        "function spin(ms: number): number {",
        "  console.log(`worker ${process.pid}: ${ms} ms of work`);",
        "  const end = Date.now() + ms;",
        "  while (Date.now() < end) {} // a synchronous loop: only killing its worker stops it",
        "  return ms;",
        "}",
        "",
        "await more.map(spin, Array.from({ length: 40 }, () => 3_000));",
      ].join("\n"),
    );
    await nb.run(long);
    // The work is underway: lines from inside the tasks reached the cell.
    const started = async () => (await long.locator(".output_stdout").allInnerTexts()).join("").match(/worker \d+: 3000 ms of work/g)?.length ?? 0;
    await withDiagnostics(expect.poll(started, { timeout: 60_000 }).toBeGreaterThanOrEqual(2));
    await nb.interrupt();
    // 40 tasks of 3 s on 2 workers would take a minute; the cell ends well within that.
    const count = await withDiagnostics(nb.waitUntilAnswered(long, 30_000));
    const error = long.locator(".output_error");
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.innerText()).toMatch(new RegExp(`AbortError: In\\[${count}\\] was interrupted`));
    const bar = long.locator(".nbpool-progress");
    await expect.poll(() => bar.getAttribute("data-state")).toBe("interrupted");
    // Items stopped by the interrupt did not fail.
    expect(await bar.getAttribute("data-failed")).toBe("0");
    expect(await bar.innerText()).toMatch(/\/40 ✗ interrupted after [^,]*$/);

    const next = await nb.appendCodeCell('const again = await more.map((x: number) => x + 1, [1, 2, 3]);\nconsole.log("the pool goes on:", again);');
    await nb.run(next);
    await withDiagnostics(nb.waitUntilAnswered(next, 60_000));
    await expect.poll(() => next.locator(".output_stdout").innerText()).toMatch(/^the pool goes on: \[ 2, 3, 4 \]\s*$/);
    expect(await next.locator(".output_error").count()).toBe(0);
    await withDiagnostics(nb.waitUntilSettled(30_000));

    await nb.screenshotCells(path.join(shotsDir, "jupyter-interrupt.png"), long, next);
  });

  it("stopping the server ends its kernel and every worker", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await browser!.close();
    browser = undefined;
    const report = await server!.stop();
    // What there was to stop: the kernel, and the workers of the pool the typed cells made.
    expect(report.running.filter((p) => / kernel -f /.test(p)).length, report.running.join("\n")).toBe(1);
    expect(report.running.filter((p) => /nbpool-worker/.test(p)).length, report.running.join("\n")).toBeGreaterThanOrEqual(2);
    expect(report.leftBehind).toEqual([]);
  });
});
