/**
 * Our own Jupyter client over zeromq: starts a kernel (or connects to one), sends requests,
 * collects what a cell publishes, interrupts, shuts down. The tests, the headless notebook
 * runner and the benchmark use it. Every wait ends: on the reply, on a timeout if one is
 * given, or when the kernel process dies.
 */

import { spawn, type ChildProcess } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zmq from "zeromq";
import { endpoint, newConnectionInfo, readConnectionFile, writeConnectionFile, type ConnectionInfo } from "./connection";
import { decode, Session, Signer, type JsonObject, type Message } from "./wire";

export type ClientChannel = "shell" | "control" | "stdin";

export interface StartOptions {
  /** The kernel's working directory (where a notebook would live). */
  cwd?: string;
  /** Added to the environment the kernel inherits. */
  env?: NodeJS.ProcessEnv;
  /** The command, with "{connection_file}" replaced; defaults to this package's `nbpool kernel`. */
  argv?: string[];
  /** How long to wait for the kernel to answer kernel_info and publish on iopub (default 30 s). */
  readyTimeoutMs?: number;
  /** Called with everything the kernel process writes to its stderr (its local log). */
  onStderr?: (text: string) => void;
}

export interface ExecuteOptions {
  silent?: boolean;
  storeHistory?: boolean;
  stopOnError?: boolean;
  userExpressions?: JsonObject;
  timeoutMs?: number;
}

export interface Execution {
  reply: Message;
  /** Every iopub message with this request as parent, in arrival order, up to its idle status. */
  messages: Message[];
  /** The output messages among them (stream, display_data, execute_result, error, ...). */
  outputs: Message[];
  stdout: string;
  stderr: string;
}

const OUTPUT_TYPES = new Set(["stream", "display_data", "update_display_data", "execute_result", "error", "clear_output"]);

export class KernelClient {
  readonly session: Session;
  private readonly sockets: Record<ClientChannel, zmq.Dealer>;
  private readonly iopub: zmq.Subscriber;
  private readonly pending = new Map<string, { resolve(msg: Message): void; reject(err: Error): void }>();
  private readonly iopubListeners = new Set<(msg: Message) => void>();
  private readonly outbox: Record<ClientChannel, Promise<void>> = { shell: Promise.resolve(), control: Promise.resolve(), stdin: Promise.resolve() };
  private closed = false;
  private stderrTail = "";
  /** Set when this client started the kernel process. */
  private child?: ChildProcess;
  private connectionFile?: string;
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exitWaiters = new Set<() => void>();

  private constructor(readonly connection: ConnectionInfo) {
    this.session = new Session(new Signer(connection.key), "nbpool-client");
    const options = { linger: 0 };
    this.sockets = { shell: new zmq.Dealer(options), control: new zmq.Dealer(options), stdin: new zmq.Dealer(options) };
    this.iopub = new zmq.Subscriber(options);
    this.iopub.subscribe();
    for (const channel of ["shell", "control", "stdin"] as const) {
      this.sockets[channel].connect(endpoint(connection, channel));
      void this.readReplies(channel);
    }
    this.iopub.connect(endpoint(connection, "iopub"));
    void this.readIopub();
  }

  /** Start a kernel with a fresh connection file (free ports, random key) and wait until it is ready. */
  static async start(options: StartOptions = {}): Promise<KernelClient> {
    const info = await newConnectionInfo();
    const file = path.join(os.tmpdir(), `nbpool-kernel-${randomUUID()}.json`);
    writeConnectionFile(file, info);
    const script = path.join(__dirname, "..", "..", "bin", "nbpool.js");
    const argv = (options.argv ?? [process.execPath, script, "kernel", "-f", "{connection_file}"]).map((a) => a.replace("{connection_file}", file));
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, JPY_PARENT_PID: String(process.pid), ...options.env },
      // Its own process group, as Jupyter does: interrupts go to the group.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const client = new KernelClient(info);
    client.child = child;
    client.connectionFile = file;
    const keep = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      client.stderrTail = (client.stderrTail + text).slice(-8192);
      options.onStderr?.(text);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.once("exit", (code, signal) => client.onExit(code, signal));
    child.once("error", (err) => {
      client.stderrTail += `\n${err.message}`;
      client.onExit(null, null);
    });
    try {
      await client.waitReady(options.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await client.close({ graceful: false });
      throw err;
    }
    return client;
  }

  /** Connect to a running kernel by connection file or info. */
  static async connect(connection: string | ConnectionInfo, readyTimeoutMs = 30_000): Promise<KernelClient> {
    const client = new KernelClient(typeof connection === "string" ? readConnectionFile(connection) : connection);
    await client.waitReady(readyTimeoutMs).catch(async (err) => {
      await client.close();
      throw err;
    });
    return client;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last 8 KiB the kernel process wrote to stdout/stderr (its local log). */
  get log(): string {
    return this.stderrTail;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Resolves when the kernel process has exited (only for a kernel this client started). */
  waitExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child) return Promise.reject(new Error("this client did not start the kernel, so it cannot watch it exit"));
    return this.within(timeoutMs, "the kernel to exit", new Promise((resolve) => {
      if (this.exitInfo) return resolve(this.exitInfo);
      this.exitWaiters.add(() => resolve(this.exitInfo!));
    }));
  }

  /** Send a request and wait for its reply. */
  request(channel: ClientChannel, msgType: string, content: JsonObject = {}, timeoutMs?: number): Promise<Message> {
    return this.send(channel, this.session.message(msgType, content), timeoutMs);
  }

  /** Send a prepared message and wait for the reply whose parent it is. */
  send(channel: ClientChannel, msg: Message, timeoutMs?: number): Promise<Message> {
    const reply = new Promise<Message>((resolve, reject) => {
      if (this.exitInfo) return reject(this.deadError());
      if (this.closed) return reject(new Error("the client is closed"));
      this.pending.set(msg.header.msg_id, { resolve, reject });
    });
    void this.sendFrames(channel, this.session.encode(msg));
    return this.within(timeoutMs, `${msg.header.msg_type} reply`, reply).finally(() => this.pending.delete(msg.header.msg_id));
  }

  /** Send raw frames (for tests of what the kernel does with malformed or forged messages). */
  sendFrames(channel: ClientChannel, frames: Buffer[]): Promise<void> {
    // zeromq.js allows one pending send per socket; chaining also keeps the order of requests.
    this.outbox[channel] = this.outbox[channel].then(() => (this.closed ? undefined : this.sockets[channel].send(frames))).catch((err: Error) => {
      if (!this.closed) process.emitWarning(`nbpool client: sending on ${channel} failed: ${err.message}`);
    });
    return this.outbox[channel];
  }

  /** Run code and collect everything published for it, until its reply and its idle status. */
  async execute(code: string, options: ExecuteOptions = {}): Promise<Execution> {
    const msg = this.session.message("execute_request", {
      code,
      silent: options.silent ?? false,
      store_history: options.storeHistory ?? true,
      user_expressions: options.userExpressions ?? {},
      allow_stdin: false,
      stop_on_error: options.stopOnError ?? true,
    });
    const messages: Message[] = [];
    let sawIdle!: () => void;
    const idle = new Promise<void>((resolve) => (sawIdle = resolve));
    const stop = this.onIopub((m) => {
      if (m.parent_header.msg_id !== msg.header.msg_id) return;
      messages.push(m);
      if (m.header.msg_type === "status" && m.content.execution_state === "idle") sawIdle();
    });
    try {
      const reply = await this.send("shell", msg, options.timeoutMs);
      await this.within(options.timeoutMs, "the idle status after execute_reply", idle, true);
      const outputs = messages.filter((m) => OUTPUT_TYPES.has(m.header.msg_type));
      const text = (name: string) => outputs.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => m.content.text).join("");
      return { reply, messages, outputs, stdout: text("stdout"), stderr: text("stderr") };
    } finally {
      stop();
    }
  }

  /** Listen to every iopub message; returns the function that stops listening. */
  onIopub(listener: (msg: Message) => void): () => void {
    this.iopubListeners.add(listener);
    return () => this.iopubListeners.delete(listener);
  }

  /** The next iopub message that satisfies `predicate`. */
  waitForIopub(predicate: (msg: Message) => boolean, timeoutMs?: number): Promise<Message> {
    let stop = () => {};
    const found = new Promise<Message>((resolve) => {
      stop = this.onIopub((m) => predicate(m) && resolve(m));
    });
    return this.within(timeoutMs, "an iopub message", found, true).finally(stop);
  }

  /** Interrupt the running cell: SIGINT to the kernel's process group (as Jupyter does) or interrupt_request. */
  async interrupt(mode: "signal" | "message" = this.child ? "signal" : "message"): Promise<void> {
    if (mode === "message") {
      await this.request("control", "interrupt_request", {}, 10_000);
      return;
    }
    if (!this.child?.pid) throw new Error("signal interrupts need a kernel started by this client");
    process.kill(-this.child.pid, "SIGINT");
  }

  /** Ask the kernel to shut down; when this client started it, also wait for it to exit. */
  async shutdown(options: { restart?: boolean; timeoutMs?: number } = {}): Promise<Message> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const reply = await this.request("control", "shutdown_request", { restart: options.restart ?? false }, timeoutMs);
    if (this.child) await this.waitExit(timeoutMs);
    return reply;
  }

  /** Send a signal to the kernel's process group (default SIGKILL), as Jupyter does on forced shutdown. */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.child?.pid || this.exitInfo) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  /**
   * Close the sockets; a kernel this client started is shut down (gracefully unless told
   * otherwise, killed if that fails) and its connection file removed.
   */
  async close(options: { graceful?: boolean } = {}): Promise<void> {
    if (this.child && !this.exitInfo && !this.closed) {
      if (options.graceful !== false) await this.shutdown({ timeoutMs: 3000 }).catch(() => {});
      if (!this.exitInfo) {
        this.kill("SIGKILL");
        await this.waitExit(5000).catch(() => {});
      }
    }
    if (this.closed) return;
    this.closed = true;
    for (const socket of [...Object.values(this.sockets), this.iopub]) socket.close();
    for (const { reject } of this.pending.values()) reject(new Error("the client was closed before the reply came"));
    this.pending.clear();
    if (this.connectionFile) fs.rmSync(this.connectionFile, { force: true });
  }

  /**
   * Ready means: kernel_info answered on shell, and iopub delivering to us. A subscriber
   * misses what is published before its subscription reaches the kernel, so keep asking
   * until a status message for one of our requests arrives (jupyter_client does the same).
   */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const heard = new Set<string>();
    const stop = this.onIopub((m) => m.parent_header.msg_id && heard.add(m.parent_header.msg_id));
    try {
      while (Date.now() < deadline) {
        const msg = this.session.message("kernel_info_request", {});
        try {
          await this.send("shell", msg, Math.min(1000, Math.max(1, deadline - Date.now())));
        } catch (err) {
          if (this.exitInfo) throw err;
          continue;
        }
        const settle = Date.now() + 200;
        while (!heard.has(msg.header.msg_id) && Date.now() < settle) await new Promise((r) => setTimeout(r, 10));
        if (heard.has(msg.header.msg_id)) return;
      }
      throw new Error(`the kernel did not become ready within ${timeoutMs} ms${this.logSuffix()}`);
    } finally {
      stop();
    }
  }

  private async readReplies(channel: ClientChannel): Promise<void> {
    try {
      for await (const frames of this.sockets[channel]) {
        const msg = this.decodeOrNull(frames);
        const waiter = msg && typeof msg.parent_header.msg_id === "string" ? this.pending.get(msg.parent_header.msg_id) : undefined;
        waiter?.resolve(msg!);
      }
    } catch (err) {
      if (!this.closed) process.emitWarning(`nbpool client: reading ${channel} failed: ${(err as Error).message}`);
    }
  }

  private async readIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const msg = this.decodeOrNull(frames);
        if (msg) for (const listener of [...this.iopubListeners]) listener(msg);
      }
    } catch (err) {
      if (!this.closed) process.emitWarning(`nbpool client: reading iopub failed: ${(err as Error).message}`);
    }
  }

  private decodeOrNull(frames: Buffer[]): Message | null {
    try {
      return decode(frames, this.session.signer);
    } catch (err) {
      process.emitWarning(`nbpool client: dropped a message from the kernel: ${(err as Error).message}`);
      return null;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitInfo = { code, signal };
    for (const { reject } of this.pending.values()) reject(this.deadError());
    for (const waiter of this.exitWaiters) waiter();
    this.exitWaiters.clear();
  }

  private deadError(): Error {
    const how = this.exitInfo?.signal ? `was killed by ${this.exitInfo.signal}` : `exited with code ${this.exitInfo?.code}`;
    return new Error(`the kernel ${how}${this.logSuffix()}`);
  }

  private logSuffix(): string {
    const tail = this.stderrTail.trim().split("\n").slice(-15).join("\n");
    return tail ? `; its last output:\n${tail}` : "";
  }

  /**
   * Bound a wait by an optional timeout and, for a kernel we started, by its death. With
   * `failOnExit`, the kernel dying ends the wait too (for waits that no reply will end).
   */
  private within<T>(timeoutMs: number | undefined, what: string, work: Promise<T>, failOnExit = false): Promise<T> {
    const races: Promise<T>[] = [work];
    let timer: NodeJS.Timeout | undefined;
    let onExit: (() => void) | undefined;
    if (timeoutMs !== undefined) {
      races.push(new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.logSuffix()}`)), timeoutMs))));
    }
    if (failOnExit && this.child) {
      races.push(new Promise<T>((_, reject) => {
        onExit = () => reject(this.deadError());
        if (this.exitInfo) onExit();
        else this.exitWaiters.add(onExit);
      }));
    }
    return Promise.race(races).finally(() => {
      clearTimeout(timer);
      if (onExit) this.exitWaiters.delete(onExit);
    });
  }
}
