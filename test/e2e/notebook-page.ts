/**
 * The classic Jupyter Notebook (6.x) page, driven the way a person drives it: menus, toolbar
 * buttons and typing. State is read from the page (prompts, outputs, the kernel indicator);
 * only facts the page does not print (a cell's tags, its full source while scrolled away)
 * are read through the notebook's own JavaScript objects, and nothing is changed that way.
 */

import type { Locator, Page } from "playwright-core";
import type { NotebookServer } from "./jupyter-server";

/** Bounds on waits, generous for a busy 2-core machine; they fail a hang, they measure nothing. */
const KERNEL_START_MS = 90_000;

export class NotebookPage {
  constructor(readonly page: Page) {}

  /** Open a notebook of the server and wait until its kernel has answered kernel_info. */
  async open(server: NotebookServer, name: string): Promise<void> {
    await this.page.goto(server.url(`notebooks/${encodeURIComponent(name)}`));
    await this.page.waitForFunction(
      () => {
        const kernel = (window as unknown as JupyterWindow).Jupyter?.notebook?.kernel;
        return Boolean(kernel?.is_connected?.() && kernel.info_reply?.implementation);
      },
      null,
      { timeout: KERNEL_START_MS },
    );
  }

  /** The kernel's implementation name, from its kernel_info_reply. */
  kernelImplementation(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as JupyterWindow).Jupyter!.notebook!.kernel!.info_reply!.implementation!);
  }

  get codeCells(): Locator {
    return this.page.locator("#notebook-container .cell.code_cell");
  }

  /** Cell > Run All, from the menu bar. */
  async runAll(): Promise<void> {
    await this.page.click("#celllink");
    await this.page.click("#run_all_cells");
  }

  /** The ■ button in the toolbar. */
  async interrupt(): Promise<void> {
    await this.page.click('#maintoolbar [data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
  }

  /**
   * Until no code cell waits for its reply (no `In [*]`) and the kernel indicator shows idle.
   * Aborted cells count as answered.
   */
  async waitUntilSettled(timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll("#notebook-container .code_cell .input_prompt")).every((p) => !p.textContent!.includes("*")) &&
        document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon"),
      null,
      { timeout: timeoutMs, polling: 100 },
    );
  }

  /** The execution count shown in a code cell's prompt, or undefined for `In [ ]` / `In [*]`. */
  async executionCount(cell: Locator): Promise<number | undefined> {
    const prompt = (await cell.locator(".input_prompt").textContent()) ?? "";
    const match = /In\s*\[(\d+)\]/.exec(prompt);
    return match ? Number(match[1]) : undefined;
  }

  /** Until a code cell's prompt shows an execution count (its reply has come). */
  async waitUntilAnswered(cell: Locator, timeoutMs: number): Promise<number> {
    await cell.locator(".input_prompt", { hasText: /In\s*\[\d+\]/ }).waitFor({ timeout: timeoutMs });
    return (await this.executionCount(cell))!;
  }

  /** The full source of a code cell, from its editor (the DOM holds only the lines in view). */
  source(cell: Locator): Promise<string> {
    return cell.locator(".CodeMirror").evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
  }

  /** Tags of each code cell, in page order. */
  codeCellTags(): Promise<string[][]> {
    return this.page.evaluate(() =>
      (window as unknown as JupyterWindow)
        .Jupyter!.notebook!.get_cells()
        .filter((c) => c.cell_type === "code")
        .map((c) => (c.metadata.tags ?? []).slice()),
    );
  }

  /**
   * Type code into a new cell at the end, as a person does: the empty cell that Shift+Enter
   * left at the bottom if there is one, else a new one from the toolbar's + (with the last
   * cell selected). Returns the cell.
   */
  async appendCodeCell(code: string): Promise<Locator> {
    const cells = this.page.locator("#notebook-container .cell");
    let cell = cells.last();
    const reusable = (await cell.evaluate((el) => el.classList.contains("code_cell"))) && (await this.source(cell)) === "";
    if (!reusable) {
      await cell.locator(".prompt").first().click();
      const before = await cells.count();
      await this.page.click('#maintoolbar [data-jupyter-action="jupyter-notebook:insert-cell-below"]');
      await this.page.waitForFunction((n) => document.querySelectorAll("#notebook-container .cell").length === n, before + 1);
      cell = cells.nth(before);
    }
    await cell.locator(".CodeMirror").click();
    // insertText enters the code in one input event, as a paste does: the editor's
    // bracket closing and auto-indent, made for keystrokes, leave it as written.
    await this.page.keyboard.insertText(code);
    const typed = await this.source(cell);
    if (typed !== code) throw new Error(`the new cell holds ${JSON.stringify(typed)}, not the code typed`);
    // A locator that stays on this cell while more cells are added.
    return this.codeCells.nth((await this.codeCells.count()) - 1);
  }

  /** Shift+Enter in a cell: run it (the notebook then selects or adds the cell below). */
  async run(cell: Locator): Promise<void> {
    await cell.locator(".CodeMirror").click();
    await this.page.keyboard.press("Shift+Enter");
  }

  /**
   * A PNG of the cells from `first` to `last` (page order), as shown. The notebook scrolls
   * inside its own pane, so the window is first made tall enough to show all of it.
   */
  async screenshotCells(file: string, first: Locator, last: Locator = first): Promise<void> {
    const viewport = this.page.viewportSize()!;
    const height = await this.page.evaluate(
      () => document.querySelector("#header")!.getBoundingClientRect().height + document.querySelector("#notebook")!.scrollHeight,
    );
    await this.page.setViewportSize({ width: viewport.width, height: Math.ceil(height) });
    try {
      // Layout settles (and the notebook re-measures its outputs) after a resize.
      await this.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const a = (await first.boundingBox())!;
      const b = (await last.boundingBox())!;
      // The cells' own padding is margin enough; more would show their neighbours' edges.
      const top = Math.min(a.y, b.y);
      const left = Math.min(a.x, b.x);
      const right = Math.max(a.x + a.width, b.x + b.width);
      const bottom = Math.max(a.y + a.height, b.y + b.height);
      await this.page.screenshot({ path: file, clip: { x: left, y: top, width: right - left, height: bottom - top } });
    } finally {
      await this.page.setViewportSize(viewport);
    }
  }
}

/** The few parts of the classic notebook's `Jupyter` global that are read here. */
interface JupyterWindow {
  Jupyter?: {
    notebook?: {
      kernel?: { is_connected?(): boolean; info_reply?: { implementation?: string } };
      get_cells(): { cell_type: string; metadata: { tags?: string[] } }[];
    };
  };
}
