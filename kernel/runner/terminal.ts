/**
 * What `nbpool run` prints while a notebook runs: a header per code cell, then its outputs
 * as they come. Text is printed as is; a picture or an HTML-only output becomes a one-line
 * note ("[image/svg+xml 12 KB]"), since a terminal cannot show it. Errors print their
 * traceback. Colours (ANSI) are kept on a terminal and stripped when the output is a file
 * or a pipe, so logs stay readable.
 *
 * A display that is updated in place (a progress bar) is redrawn in place on a terminal; in
 * a log only its last state is printed, when something else is printed or the cell ends.
 */

export interface PrinterOptions {
  /** Keep ANSI colours (default: when the stream is a TTY, unless NO_COLOR is set). */
  color?: boolean;
  /** Redraw updated displays in place with cursor moves (default: when the stream is a TTY). */
  live?: boolean;
}

interface LiveDisplay {
  id: string;
  text: string;
  /** Lines it took on screen, once printed (live mode). */
  lines?: number;
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const DIM = (s: string) => `\x1b[2m${s}\x1b[0m`;
const BOLD = (s: string) => `\x1b[1m${s}\x1b[0m`;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

export class TerminalPrinter {
  private readonly color: boolean;
  private readonly live: boolean;
  /** Whether the last character written ended a line. */
  private atLineStart = true;
  /** The updatable display printed last (live) or waiting to be printed (log). */
  private pending?: LiveDisplay;
  /** Label of the cell whose output was printed last. */
  private lastCell?: string;
  /** Label of the cell running now. */
  private runningCell?: string;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    options: PrinterOptions = {},
  ) {
    const tty = out.isTTY === true;
    this.color = options.color ?? (tty && !process.env.NO_COLOR);
    this.live = options.live ?? tty;
  }

  /** A markdown cell: its headings, so the terminal shows where the notebook is. */
  markdown(source: string): void {
    const headings = source.split("\n").filter((line) => /^#{1,3}\s/.test(line));
    if (headings.length === 0) return;
    this.settle();
    for (const heading of headings) this.write(`\n${this.style(BOLD, heading.trim())}\n`);
  }

  cellStart(label: string, source: string): void {
    this.settle();
    const lines = source.trimEnd().split("\n");
    const more = lines.length > 1 ? this.style(DIM, `  … (${lines.length} lines)`) : "";
    this.write(`\n${this.style(BOLD, `${label}:`)} ${lines[0]}${more}\n`);
    this.lastCell = label;
    this.runningCell = label;
  }

  /** An output message of the cell `label`; `late` when that cell is no longer the one running. */
  output(label: string, msgType: string, content: Record<string, unknown>): void {
    if (msgType === "update_display_data") return this.update(content);
    if (msgType === "clear_output") return;
    this.settle();
    if (label !== this.lastCell) {
      this.write(this.style(DIM, label === this.runningCell ? `(${label} continues)\n` : `(late output of ${label})\n`));
      this.lastCell = label;
    }
    switch (msgType) {
      case "stream":
        return this.write(String(content.text ?? ""));
      case "display_data":
      case "execute_result": {
        const text = bundleText(content.data as Record<string, unknown>);
        const id = (content.transient as { display_id?: unknown } | undefined)?.display_id;
        if (typeof id === "string") {
          this.pending = { id, text };
          if (this.live) this.printPending();
          return;
        }
        return this.block(text);
      }
      case "error": {
        const traceback = Array.isArray(content.traceback) ? content.traceback.map(String) : [];
        return this.block(traceback.length > 0 ? traceback.join("\n") : `${content.ename}: ${content.evalue}`);
      }
    }
  }

  /** A line from the runner itself (a timeout, an unexpected outcome). */
  note(text: string): void {
    this.settle();
    this.block(this.style(DIM, `[nbpool run] ${text}`));
  }

  /** The cell ended: print what is still waiting, end the line. */
  cellEnd(): void {
    this.settle();
  }

  private update(content: Record<string, unknown>): void {
    const id = (content.transient as { display_id?: unknown } | undefined)?.display_id;
    const text = bundleText(content.data as Record<string, unknown>);
    if (this.pending && this.pending.id === id) {
      if (!this.live) {
        this.pending.text = text;
        return;
      }
      // Still the last thing on screen: move up over it and draw the new state.
      this.out.write(`\x1b[${this.pending.lines}A\r\x1b[J`);
      this.atLineStart = true;
      this.pending.text = text;
      this.printPending();
      return;
    }
    // An update of a display printed earlier, with other output after it: print it anew.
    this.settle();
    this.block(text);
  }

  private printPending(): void {
    const shown = this.pending!;
    this.block(shown.text);
    // Lines on screen, counting the ones the terminal wraps.
    const columns = (this.out as { columns?: number }).columns || 80;
    shown.lines = stripAnsi(shown.text)
      .split("\n")
      .reduce((n, line) => n + Math.max(1, Math.ceil(line.length / columns)), 0);
  }

  /** Before anything else is printed: a waiting display is printed (log) or left as it is (live). */
  private settle(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending && !this.live) this.block(pending.text);
    if (!this.atLineStart) this.write("\n");
  }

  private block(text: string): void {
    if (!this.atLineStart) this.write("\n");
    this.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  private write(text: string): void {
    if (text === "") return;
    this.out.write(this.color ? text : stripAnsi(text));
    this.atLineStart = text.endsWith("\n");
  }

  private style(fn: (s: string) => string, text: string): string {
    return this.color ? fn(text) : text;
  }
}

/** The text form of a MIME bundle: text/plain, plus a note for each picture; a note alone when there is no text. */
export function bundleText(data: Record<string, unknown> | undefined): string {
  const bundle = data ?? {};
  const plain = typeof bundle["text/plain"] === "string" ? (bundle["text/plain"] as string) : undefined;
  const notes = Object.entries(bundle)
    .filter(([mime]) => mime !== "text/plain" && (mime.startsWith("image/") || plain === undefined))
    .map(([mime, value]) => `[${mime} ${formatSize(sizeOf(mime, value))}]`);
  return [...(plain !== undefined ? [plain] : []), ...notes].join("\n");
}

function sizeOf(mime: string, value: unknown): number {
  if (typeof value !== "string") return Buffer.byteLength(JSON.stringify(value) ?? "");
  // Binary images travel base64-encoded; their size is the decoded one.
  if (mime.startsWith("image/") && mime !== "image/svg+xml") return Buffer.from(value, "base64").length;
  return Buffer.byteLength(value);
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
