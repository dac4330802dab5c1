/**
 * The kernel's protocol side: requests in, replies and iopub messages out, in the order the
 * messaging spec (5.3) asks for, with the language work delegated to an Engine.
 *
 * Shell requests run one at a time, in arrival order. Control requests (interrupt, shutdown,
 * kernel_info...) are answered at once, even while a cell runs. Every request is bracketed
 * by busy/idle status messages carrying it as parent.
 */

import type { ConnectionInfo } from "./connection";
import type { Engine, ExecuteContext, ExecuteOutcome } from "./engine";
import { KernelSockets, type RequestChannel } from "./sockets";
import { PROTOCOL_VERSION, Session, Signer, type JsonObject, type Message } from "./wire";

export interface ServerOptions {
  connection: ConnectionInfo;
  engine: Engine;
  /** kernel_info_reply content other than status and protocol_version. */
  kernelInfo: JsonObject;
  /** Local log (the kernel's stderr); never a notebook. */
  log: (text: string) => void;
  /** How long engine.shutdown may take before the kernel exits anyway. */
  shutdownDeadlineMs?: number;
}

interface Running {
  request: Message;
  controller: AbortController;
}

export class KernelServer {
  private readonly engine: Engine;
  private readonly session: Session;
  private readonly log: (text: string) => void;
  private sockets!: KernelSockets;
  private executionCount = 0;
  private readonly shellQueue: Message[] = [];
  private draining = false;
  private running?: Running;
  /** msg_ids of queued execute requests that an earlier error aborted. */
  private readonly aborted = new Set<string>();
  private stopping?: Promise<void>;
  private resolveStopped!: (value: { restart: boolean }) => void;
  /** Resolves once the kernel has shut down (sockets closed); the process should then exit. */
  readonly stopped = new Promise<{ restart: boolean }>((resolve) => (this.resolveStopped = resolve));

  private constructor(private readonly options: ServerOptions) {
    this.engine = options.engine;
    this.log = options.log;
    this.session = new Session(new Signer(options.connection.key), "kernel");
  }

  static async start(options: ServerOptions): Promise<KernelServer> {
    const server = new KernelServer(options);
    server.sockets = await KernelSockets.bind(options.connection, server.session, (ch, msg) => server.receive(ch, msg), options.log);
    void server.publish("status", { execution_state: "starting" });
    return server;
  }

  /** Interrupt the running cell (SIGINT or interrupt_request). The kernel stays up. */
  interrupt(): void {
    this.running?.controller.abort(abortError("The cell was interrupted"));
    try {
      this.engine.interrupt();
    } catch (err) {
      this.log(`engine.interrupt failed: ${(err as Error).stack ?? err}`);
    }
  }

  /**
   * Shut down: stop taking requests, end the engine (and with it every pool) within the
   * deadline, close the sockets, resolve `stopped`. Safe to call more than once.
   */
  shutdown(restart: boolean, request?: { channel: RequestChannel; msg: Message }): Promise<void> {
    this.stopping ??= (async () => {
      this.running?.controller.abort(abortError("The kernel is shutting down"));
      await this.withDeadline(this.engine.shutdown(restart), "engine.shutdown");
      if (request) {
        await this.reply(request.channel, request.msg, "shutdown_reply", { status: "ok", restart });
        await this.publish("status", { execution_state: "idle" }, request.msg);
      }
      await this.sockets.close();
      this.resolveStopped({ restart });
    })();
    return this.stopping;
  }

  private receive(channel: RequestChannel, msg: Message): void {
    if (this.stopping) return void this.log(`ignored ${msg.header.msg_type}: the kernel is shutting down`);
    if (channel === "stdin") return void this.log(`ignored ${msg.header.msg_type} on stdin: input is not requested by this kernel`);
    if (channel === "control") return void this.handle("control", msg);
    this.shellQueue.push(msg);
    void this.drainShell();
  }

  private async drainShell(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.shellQueue.length > 0 && !this.stopping) await this.handle("shell", this.shellQueue.shift()!);
    } finally {
      this.draining = false;
    }
  }

  private async handle(channel: RequestChannel, msg: Message): Promise<void> {
    const type = msg.header.msg_type;
    await this.publish("status", { execution_state: "busy" }, msg);
    // Shutdown replies, and publishes idle, only once the engine has finished.
    if (type === "shutdown_request") return this.shutdown(msg.content.restart === true, { channel, msg });
    try {
      await this.dispatch(channel, msg);
    } catch (err) {
      this.log(`error handling ${type}: ${(err as Error).stack ?? err}`);
      if (type.endsWith("_request")) {
        await this.reply(channel, msg, type.replace(/_request$/, "_reply"), { status: "error", ...errorFields(err) });
      }
    } finally {
      await this.publish("status", { execution_state: "idle" }, msg);
    }
  }

  private async dispatch(channel: RequestChannel, msg: Message): Promise<void> {
    const c = msg.content;
    const code = typeof c.code === "string" ? c.code : "";
    const cursorPos = typeof c.cursor_pos === "number" ? c.cursor_pos : code.length;
    switch (msg.header.msg_type) {
      case "execute_request":
        if (channel !== "shell") throw new Error("execute_request is only accepted on the shell channel");
        return this.execute(msg);
      case "kernel_info_request":
        return this.reply(channel, msg, "kernel_info_reply", { status: "ok", protocol_version: PROTOCOL_VERSION, ...this.options.kernelInfo });
      case "interrupt_request":
        this.interrupt();
        return this.reply(channel, msg, "interrupt_reply", { status: "ok" });
      case "is_complete_request":
        return this.reply(channel, msg, "is_complete_reply", { ...this.engine.isComplete(code) });
      case "complete_request": {
        const { matches, cursorStart, cursorEnd } = this.engine.complete(code, cursorPos);
        return this.reply(channel, msg, "complete_reply", { status: "ok", matches, cursor_start: cursorStart, cursor_end: cursorEnd, metadata: {} });
      }
      case "inspect_request": {
        const detail = typeof c.detail_level === "number" ? c.detail_level : 0;
        const { found, data } = this.engine.inspect(code, cursorPos, detail);
        return this.reply(channel, msg, "inspect_reply", { status: "ok", found, data, metadata: {} });
      }
      case "history_request":
        // No history is kept; an empty history is a valid answer to every access type.
        return this.reply(channel, msg, "history_reply", { status: "ok", history: [] });
      case "comm_info_request":
        return this.reply(channel, msg, "comm_info_reply", { status: "ok", comms: {} });
      case "comm_open":
        // No comm targets exist: close it at once, as ipykernel does for unknown targets.
        return this.publish("comm_close", { comm_id: c.comm_id, data: {} }, msg);
      case "comm_msg":
      case "comm_close":
        return;
      default:
        this.log(`ignored unknown message type ${msg.header.msg_type} on ${channel}`);
    }
  }

  private async execute(request: Message): Promise<void> {
    const c = request.content;
    const code = typeof c.code === "string" ? c.code : "";
    const silent = c.silent === true;
    const storeHistory = !silent && c.store_history !== false;
    if (this.aborted.delete(request.header.msg_id)) {
      return this.reply("shell", request, "execute_reply", { status: "abort", execution_count: this.executionCount });
    }
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) await this.publish("execute_input", { code, execution_count: count }, request);

    const running: Running = { request, controller: new AbortController() };
    this.running = running;
    const context: ExecuteContext = {
      executionCount: count,
      silent,
      signal: running.controller.signal,
      // Bound to this request for ever: late output still lands in this cell.
      publish: (msgType, content) => void this.publish(msgType, content, request),
    };
    let outcome: ExecuteOutcome;
    try {
      outcome = await this.engine.execute(code, context);
    } catch (err) {
      outcome = { status: "error", ...errorFields(err) };
    } finally {
      if (this.running === running) this.running = undefined;
    }

    if (outcome.status === "ok") {
      if (outcome.result && !silent) {
        await this.publish("execute_result", { execution_count: count, data: outcome.result.data, metadata: outcome.result.metadata ?? {} }, request);
      }
      return this.reply("shell", request, "execute_reply", { status: "ok", execution_count: count, payload: [], user_expressions: {} });
    }
    const { ename, evalue, traceback } = outcome;
    await this.publish("error", { ename, evalue, traceback }, request);
    if (c.stop_on_error !== false) await this.abortQueuedExecutes();
    return this.reply("shell", request, "execute_reply", { status: "error", execution_count: count, ename, evalue, traceback, user_expressions: {} });
  }

  /**
   * After an error, the execute requests already queued at that moment (with stop_on_error,
   * the default) are answered "abort" instead of running, as ipykernel does. Requests that
   * arrive later run normally: there is no time window.
   */
  private async abortQueuedExecutes(): Promise<void> {
    await this.sockets.settle("shell");
    for (const msg of this.shellQueue) {
      if (msg.header.msg_type === "execute_request" && msg.content.stop_on_error !== false) this.aborted.add(msg.header.msg_id);
    }
  }

  private reply(channel: RequestChannel, request: Message, msgType: string, content: JsonObject): Promise<void> {
    return this.sockets.send(channel, this.session.reply(request, msgType, content));
  }

  private publish(msgType: string, content: JsonObject, parent?: Message): Promise<void> {
    const msg = this.session.message(msgType, content, parent);
    msg.identities = [Buffer.from(`kernel.${this.session.id}.${msgType}`)];
    return this.sockets.send("iopub", msg);
  }

  private async withDeadline(work: Promise<unknown>, what: string): Promise<void> {
    const ms = this.options.shutdownDeadlineMs ?? 1200;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log(`${what} did not finish within ${ms} ms; going on without it`);
        resolve();
      }, ms);
    });
    try {
      await Promise.race([work.catch((err: unknown) => this.log(`${what} failed: ${(err as Error)?.stack ?? err}`)), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function abortError(message: string): Error {
  const err = new Error(message);
  err.name = "AbortError";
  return err;
}

function errorFields(err: unknown): { ename: string; evalue: string; traceback: string[] } {
  if (err instanceof Error) return { ename: err.name, evalue: err.message, traceback: (err.stack ?? `${err.name}: ${err.message}`).split("\n") };
  return { ename: "Error", evalue: String(err), traceback: [String(err)] };
}
