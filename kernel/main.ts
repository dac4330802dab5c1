/**
 * `nbpool kernel -f CONNECTION_FILE`: the process Jupyter starts. Wires the protocol server
 * to the engine and to the process's lifecycle: SIGINT interrupts, SIGTERM/SIGHUP and the
 * death of the parent shut down, and the process exits once the server has stopped.
 */

import * as fs from "fs";
import * as path from "path";
import { createEngine } from "./cells-engine";
import { readConnectionFile } from "./connection";
import { KernelServer } from "./server";

const USAGE = "usage: nbpool kernel -f CONNECTION_FILE";

export async function main(args: string[]): Promise<number> {
  const file = connectionFileArg(args);
  if (file === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (file === undefined) {
    log(`${USAGE}\n(Jupyter starts the kernel this way; install it with: npx nbpool install --user)`);
    return 2;
  }
  let server: KernelServer;
  try {
    const connection = readConnectionFile(file);
    const engine = createEngine({ log });
    server = await KernelServer.start({ connection, engine, kernelInfo: kernelInfo(), log });
  } catch (err) {
    // Through log(), not a throw: the engine may already have redirected process.stderr.
    log(`cannot start: ${(err as Error).message}`);
    process.exit(1);
  }

  process.on("SIGINT", () => server.interrupt());
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      log(`received ${signal}; shutting down`);
      void server.shutdown(false);
    });
  }
  watchParent(() => {
    log("the kernel's parent process is gone; shutting down");
    void server.shutdown(false);
  });
  keepAliveOnStrayErrors();

  await server.stopped;
  // Exit explicitly: the engine may leave handles (compiler watchers, timers) that would
  // otherwise keep a kernel with no sockets alive.
  process.exit(0);
}

function connectionFileArg(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "-f" || arg === "--connection-file" || arg === "--f") return args[i + 1];
    const eq = /^(?:-f|--f|--connection-file)=(.+)$/.exec(arg);
    if (eq) return eq[1];
  }
  return undefined;
}

function kernelInfo(): Record<string, unknown> {
  const pkg = readJson(path.join(__dirname, "..", "..", "package.json"));
  return {
    implementation: "nbpool",
    implementation_version: typeof pkg.version === "string" ? pkg.version : "0.0.0",
    language_info: {
      name: "typescript",
      version: typescriptVersion(),
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      // JupyterLab reads `name`; the classic notebook needs `typescript: true` as well.
      codemirror_mode: { name: "javascript", typescript: true },
    },
    banner: `nbpool ${pkg.version ?? ""}: TypeScript with process pools (Node ${process.version})`,
    help_links: [],
  };
}

/** The TypeScript that compiles cells is tslab's own copy. */
function typescriptVersion(): string {
  try {
    const tslabDir = path.dirname(require.resolve("tslab/package.json"));
    const tsPackage = require.resolve("@tslab/typescript-for-tslab/package.json", { paths: [tslabDir] });
    return String(readJson(tsPackage).version ?? "");
  } catch {
    return "";
  }
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Jupyter sets JPY_PARENT_PID to the process that manages the kernel. When that process is
 * gone, or when this process was re-parented (its parent died), nobody can reach the kernel
 * any more: shut down rather than linger with workers.
 */
function watchParent(onGone: () => void): void {
  const jupyterParent = Number(process.env.JPY_PARENT_PID) || undefined;
  const initialParent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== initialParent || (jupyterParent !== undefined && !isAlive(jupyterParent))) {
      clearInterval(timer);
      onGone();
    }
  }, 1000);
  timer.unref();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A stray rejection or exception from cell code must not kill the kernel (Node's default).
 * The engine may install its own handlers (to show them in a cell); these are the fallback.
 */
function keepAliveOnStrayErrors(): void {
  if (process.listenerCount("unhandledRejection") === 0) {
    process.on("unhandledRejection", (reason) => log(`unhandled rejection: ${(reason as Error)?.stack ?? reason}`));
  }
  if (process.listenerCount("uncaughtException") === 0) {
    process.on("uncaughtException", (err) => log(`uncaught exception: ${err.stack ?? err}`));
  }
}

/**
 * The kernel's own log goes straight to file descriptor 2: the engine redirects
 * process.stderr to the notebook, and protocol diagnostics must never end up there.
 */
export function log(text: string): void {
  try {
    fs.writeSync(2, `[nbpool kernel ${process.pid}] ${text}\n`);
  } catch {
    // stderr closed: nothing more to do.
  }
}
