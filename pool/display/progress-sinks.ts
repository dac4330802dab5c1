/**
 * Where a progress bar goes. In a notebook (a Host is registered): one display, updated in
 * place by display id. In a terminal (stderr is a TTY): one line redrawn with \r. Anywhere
 * else: nowhere, so logs and pipes never fill with bar frames.
 */

import { randomUUID } from "node:crypto";
import { getHost, type Host } from "../host";
import { progressHtml, progressText, type ProgressSnapshot } from "./progress-view";

export interface ProgressSink {
  show(snapshot: ProgressSnapshot): void;
}

export class HostSink implements ProgressSink {
  readonly displayId = `nbpool-progress-${randomUUID()}`;
  private shown = false;

  constructor(
    private readonly host: Host,
    private readonly context: unknown,
  ) {}

  show(snapshot: ProgressSnapshot): void {
    const bundle = { "text/plain": progressText(snapshot), "text/html": progressHtml(snapshot) };
    this.host.display(this.context, bundle, this.shown ? { displayId: this.displayId, update: true } : { displayId: this.displayId });
    this.shown = true;
  }
}

export class TtySink implements ProgressSink {
  constructor(private readonly stream: NodeJS.WriteStream) {}

  show(snapshot: ProgressSnapshot): void {
    const columns = this.stream.columns || 80;
    // The bar takes what the details leave, within reason; the line never wraps, since a
    // wrapped line cannot be redrawn with \r.
    const bare = progressText(snapshot, 0);
    const barWidth = Math.max(0, Math.min(30, columns - bare.length - 4));
    let text = progressText(snapshot, barWidth >= 8 ? barWidth : 0);
    if (text.length > columns - 1) text = text.slice(0, Math.max(0, columns - 2)) + "…";
    this.stream.write(`\r${text}\x1b[K${snapshot.end ? "\n" : ""}`);
  }
}

/** The sink for a call made now, or undefined when progress would be seen by nobody. */
export function chooseSink(context?: unknown): ProgressSink | undefined {
  const host = getHost();
  if (host) return new HostSink(host, context === undefined ? host.currentContext() : context);
  if (process.stderr.isTTY) return new TtySink(process.stderr);
  return undefined;
}
