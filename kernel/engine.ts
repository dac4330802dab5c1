/**
 * The seam between the Jupyter protocol (server.ts: sockets, messages, queues) and the
 * language side (cells compiled by tslab, output routing, error rendering, pools).
 * The server knows nothing about TypeScript; the engine knows nothing about zeromq.
 */

export type MimeBundle = Record<string, unknown>;

/** One execute_request, as the engine sees it. */
export interface ExecuteContext {
  /** The execution count of this request (already incremented when store_history). */
  readonly executionCount: number;
  readonly silent: boolean;
  /**
   * Publish an iopub message (stream, display_data, update_display_data, clear_output...)
   * with this request's header as parent. Valid for ever: output that arrives after the
   * cell finished, or after a later cell started, still goes to this cell.
   */
  publish(msgType: string, content: Record<string, unknown>): void;
  /** Aborted when this execution is interrupted. */
  readonly signal: AbortSignal;
}

export type ExecuteOutcome =
  | { status: "ok"; /** The last expression's value as a MIME bundle, if any. */ result?: { data: MimeBundle; metadata?: Record<string, unknown> } }
  | { status: "error"; ename: string; evalue: string; traceback: string[] };

export interface Engine {
  execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome>;
  isComplete(code: string): { status: "complete" | "incomplete" | "invalid" | "unknown"; indent?: string };
  complete(code: string, cursorPos: number): { matches: string[]; cursorStart: number; cursorEnd: number };
  inspect(code: string, cursorPos: number, detailLevel: number): { found: boolean; data: MimeBundle };
  /** Interrupt the running execution (SIGINT or interrupt_request). */
  interrupt(): void;
  /** End every pool and release resources; called before the kernel exits. */
  shutdown(restart: boolean): Promise<void>;
}
