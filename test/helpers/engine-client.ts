/**
 * Drives the kernel's engine in a child process (test/helpers/engine-driver.js): execute
 * cells, interrupt them (by request or with a real SIGINT), and read every message the
 * engine published for each cell, including output that arrives after the cell finished.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export interface Published {
  msgType: string;
  content: Record<string, any>;
}

export type Outcome =
  | { status: "ok"; result?: { data: Record<string, any>; metadata?: Record<string, unknown> } }
  | { status: "error"; ename: string; evalue: string; traceback: string[] };

export interface Execution {
  id: number;
  outcome: Promise<Outcome>;
  /** Everything published for this cell so far (grows after the outcome for late output). */
  published: Published[];
}

const DRIVER = path.join(__dirname, "engine-driver.js");

export class EngineProcess {
  private nextId = 1;
  private count = 0;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly outputs = new Map<number, Published[]>();
  private exited: Promise<void>;
  /** The engine's own log (its stderr fd, which the engine does not redirect). */
  log = "";

  private constructor(readonly child: ChildProcess) {
    child.on("message", (msg: any) => {
      if (msg.type === "publish") this.outputsOf(msg.exec).push({ msgType: msg.msgType, content: msg.content });
      if (msg.type === "reply") {
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.error) w?.reject(new Error(msg.error));
        else w?.resolve(msg.value);
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.log += d));
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (this.log += d));
    this.exited = new Promise((resolve) => child.on("exit", () => resolve()));
    child.on("exit", (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the engine process exited (${code ?? signal})\n${this.log}`));
      this.waiting.clear();
    });
  }

  /** `detached`: the engine leads a process group of its own (as Jupyter starts kernels), so a test can signal the group. */
  static async start(options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Promise<EngineProcess> {
    const child = fork(DRIVER, [], { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe", "ipc"], detached: options.detached });
    const engine = new EngineProcess(child);
    await new Promise<void>((resolve, reject) => {
      child.once("message", (m: any) => (m.type === "ready" ? resolve() : reject(new Error(`unexpected ${JSON.stringify(m)}`))));
      child.once("exit", (code) => reject(new Error(`the engine process exited (${code}) before it was ready\n${engine.log}`)));
    });
    return engine;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts a cell; `count` defaults to the next execution count. */
  start(code: string, options: { count?: number; silent?: boolean } = {}): Execution {
    const id = this.nextId++;
    const count = options.count ?? ++this.count;
    const outcome = this.request<Outcome>({ op: "execute", code, count, silent: options.silent }, id);
    return { id, outcome, published: this.outputsOf(id) };
  }

  /** Runs a cell to its outcome. */
  async run(code: string, options: { count?: number; silent?: boolean } = {}): Promise<{ outcome: Outcome; published: Published[]; id: number }> {
    const exec = this.start(code, options);
    return { outcome: await exec.outcome, published: exec.published, id: exec.id };
  }

  /** Runs a cell that must succeed; returns its stdout text and result text/plain. */
  async ok(code: string): Promise<{ stdout: string; stderr: string; text?: string; published: Published[] }> {
    const { outcome, published } = await this.run(code);
    if (outcome.status !== "ok") throw new Error(`cell failed: ${outcome.ename}: ${outcome.evalue}\n${stripAnsi(outcome.traceback.join("\n"))}`);
    return { stdout: streamText(published, "stdout"), stderr: streamText(published, "stderr"), text: outcome.result?.data["text/plain"], published };
  }

  interrupt(): Promise<void> {
    return this.request({ op: "interrupt" });
  }

  abort(exec: Execution): Promise<void> {
    return this.request({ op: "abort", exec: exec.id });
  }

  isComplete(code: string): Promise<{ status: string; indent?: string }> {
    return this.request({ op: "isComplete", code });
  }

  complete(code: string, pos = code.length): Promise<{ matches: string[]; cursorStart: number; cursorEnd: number }> {
    return this.request({ op: "complete", code, pos });
  }

  inspect(code: string, pos = code.length): Promise<{ found: boolean; data: Record<string, any> }> {
    return this.request({ op: "inspect", code, pos });
  }

  async shutdown(): Promise<void> {
    await this.request({ op: "shutdown" });
    await this.exited;
  }

  /** Ends the process however it is (for afterAll/afterEach). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }

  private outputsOf(id: number): Published[] {
    let list = this.outputs.get(id);
    if (!list) this.outputs.set(id, (list = []));
    return list;
  }

  private request<T>(body: Record<string, unknown>, id = this.nextId++): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...body, id });
    });
  }
}

export function streamText(published: Published[], name: "stdout" | "stderr"): string {
  return published
    .filter((p) => p.msgType === "stream" && p.content.name === name)
    .map((p) => p.content.text as string)
    .join("");
}

export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** The traceback as plain text (ANSI colours removed), lines joined as Jupyter does. */
export function tracebackText(outcome: Outcome): string {
  if (outcome.status !== "error") throw new Error("the cell did not fail");
  return stripAnsi(outcome.traceback.join("\n"));
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The outcome, which must be an error (fails the test with what it was otherwise). */
export function expectError(outcome: Outcome): Extract<Outcome, { status: "error" }> {
  if (outcome.status !== "error") throw new Error(`expected an error, got ${JSON.stringify(outcome)}`);
  return outcome;
}
