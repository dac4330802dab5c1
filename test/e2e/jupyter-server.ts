/**
 * A classic Jupyter Notebook server (Debian's jupyter-notebook) for one test run: loopback
 * only, a random token, and every Jupyter directory (data, config, runtime, HOME) in a fresh
 * temporary folder, so nothing of the machine's own Jupyter set-up is read or written. The
 * nbpool kernelspec is installed into that data dir the way a user would (`nbpool install
 * --user` with JUPYTER_DATA_DIR set), and the notebooks are copies in the server's root.
 *
 * stop() ends the server with SIGTERM, which makes it shut its kernels down as a user's
 * Ctrl-C would, and then reports which of the processes it had started (kernels, their
 * workers) were still alive and had to be killed: a clean run leaves none.
 */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { isAlive } from "../helpers/procs";

export const JUPYTER_NOTEBOOK = "/usr/bin/jupyter-notebook";
const repoRoot = path.resolve(__dirname, "..", "..");
const binPath = path.join(repoRoot, "bin", "nbpool.js");

export interface StopReport {
  /** The server's descendants when it was told to stop (kernels and their workers): "pid cmdline". */
  running: string[];
  /** Those of them that outlived it and were killed. */
  leftBehind: string[];
}

export class NotebookServer {
  private stopped?: Promise<StopReport>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly base: string,
    readonly root: string,
    readonly port: number,
    readonly token: string,
    private readonly output: { text: string },
  ) {}

  /** Start a server whose root holds copies of `notebooks`; resolves once it answers HTTP. */
  static async start(notebooks: string[]): Promise<NotebookServer> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-e2e-"));
    const at = (dir: string) => path.join(base, dir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: at("home"),
      JUPYTER_DATA_DIR: at("data"),
      JUPYTER_CONFIG_DIR: at("config"),
      JUPYTER_RUNTIME_DIR: at("runtime"),
      PYTHONDONTWRITEBYTECODE: "1",
    };
    // Extra kernelspec folders of whoever runs the test stay out.
    delete env.JUPYTER_PATH;
    let lastError: unknown;
    try {
      for (const dir of ["home", "data", "config", "runtime", "notebooks"]) fs.mkdirSync(at(dir));
      execFileSync(process.execPath, [binPath, "install", "--user"], { env, stdio: "pipe" });
      for (const nb of notebooks) fs.copyFileSync(nb, path.join(at("notebooks"), path.basename(nb)));

      // A port that was free a moment ago may be taken before the server binds it: try again then.
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort();
        const token = randomBytes(24).toString("hex");
        const args = [
          "--no-browser",
          "--ip=127.0.0.1",
          `--port=${port}`,
          "--port-retries=0",
          `--NotebookApp.token=${token}`,
          `--notebook-dir=${at("notebooks")}`,
          ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
        ];
        // Its own process group, so a failed run can still kill the server and whatever it left.
        const child = spawn(JUPYTER_NOTEBOOK, args, { cwd: at("notebooks"), env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        const output = { text: "" };
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (output.text += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (output.text += d));
        const server = new NotebookServer(child, base, at("notebooks"), port, token, output);
        killOnExit.add(server);
        try {
          await server.waitUntilServing(60_000);
          return server;
        } catch (err) {
          lastError = err;
          await server.halt();
        }
      }
    } catch (err) {
      lastError = err;
    }
    fs.rmSync(base, { recursive: true, force: true });
    throw lastError;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The server's log so far (for failure messages). */
  get log(): string {
    return this.output.text;
  }

  /** An address in the server, with the token (which also sets the login cookie). */
  url(pathname: string): string {
    return `http://127.0.0.1:${this.port}/${pathname.replace(/^\//, "")}?token=${this.token}`;
  }

  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`jupyter-notebook exited (${this.child.exitCode ?? this.child.signalCode}) before serving:\n${this.log}`);
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/api/status`, { headers: { Authorization: `token ${this.token}` } });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`jupyter-notebook did not answer on port ${this.port} within ${timeoutMs} ms:\n${this.log}`);
  }

  /** Stop the server (its kernels with it), kill whatever it leaves, remove its folders. Idempotent. */
  stop(): Promise<StopReport> {
    this.stopped ??= this.halt().then((report) => {
      fs.rmSync(this.base, { recursive: true, force: true });
      return report;
    });
    return this.stopped;
  }

  /** Stop the server's processes; its folders stay. */
  private async halt(): Promise<StopReport> {
    killOnExit.delete(this);
    const started = descendants(this.pid);
    if (isRunning(this.child)) {
      this.child.kill("SIGTERM");
      if (!(await exited(this.child, 15_000))) {
        this.output.text += "\n[test] the server did not stop within 15 s of SIGTERM; killing its process group\n";
        killGroup(this.pid);
        await exited(this.child, 5_000);
      }
    }
    // The server shuts its kernels down before it exits, and workers exit with their kernel;
    // give them a bounded moment, then kill and name what is left.
    const deadline = Date.now() + 10_000;
    let alive = started.filter((p) => isAlive(p.pid));
    while (alive.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      alive = alive.filter((p) => isAlive(p.pid));
    }
    for (const p of alive) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    const describe = (p: ProcessInfo) => `${p.pid} ${p.cmdline}`;
    return { running: started.map(describe), leftBehind: alive.map(describe) };
  }
}

/** Servers still running when the test process exits (a crash, an interrupted run) are killed. */
const killOnExit = new Set<NotebookServer>();
process.once("exit", () => {
  for (const server of killOnExit) {
    for (const p of descendants(server.pid)) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    killGroup(server.pid);
  }
});

/** The version `jupyter-notebook --version` prints ("6.4.12"). */
export function notebookVersion(): string {
  return execFileSync(JUPYTER_NOTEBOOK, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }).trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone
  }
}

interface ProcessInfo {
  pid: number;
  cmdline: string;
}

/** Every live descendant of `root` (children, grandchildren...), from /proc. */
export function descendants(root: number): ProcessInfo[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: ProcessInfo[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid !== parent) continue;
      frontier.push(pid);
      found.push({ pid, cmdline: cmdlineOf(pid) });
    }
  }
  return found;
}

function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "?";
  }
}
