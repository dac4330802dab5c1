/**
 * Workers must not outlive their owner, even when the owner is SIGKILLed. An idle worker
 * notices by itself (its IPC channel closes and it exits), but a worker busy in a
 * synchronous loop never looks. So one tiny shell process per owner process keeps the list
 * of live workers, read from a pipe; when the owner dies, however it dies, the pipe closes
 * and the shell kills every worker left on the list (each leads its own process group, so
 * anything a task spawned goes too).
 *
 * A shell, not a thread in each worker: it costs one ~1 ms spawn per owner instead of a
 * second V8 instance per worker. It is in a process group of its own, so the signals sent
 * to the owner's group (Jupyter's interrupt, or its SIGKILL on restart) do not reach it.
 * Where there is no /bin/sh the watch is skipped and the channel rule alone applies. It
 * starts in the turn after the first workers, off the path to the first result.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";

const SCRIPT = `
trap '' INT HUP TERM
pids=
while read -r op pid; do
  case "$op" in
    +) pids="$pids $pid" ;;
    -) keep=; for p in $pids; do [ "$p" = "$pid" ] || keep="$keep $p"; done; pids=$keep ;;
  esac
done
for p in $pids; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null; done
`;

const WATCHER = Symbol.for("nbpool.orphanWatcher");
type WithWatcher = { [WATCHER]?: ChildProcess | null };

function watcher(): ChildProcess | null {
  const g = globalThis as WithWatcher;
  if (g[WATCHER] !== undefined) return g[WATCHER];
  if (process.platform === "win32" || !fs.existsSync("/bin/sh")) return (g[WATCHER] = null);
  const child = spawn("/bin/sh", ["-c", SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  child.on("error", () => (g[WATCHER] = null));
  child.stdin!.on("error", () => (g[WATCHER] = null));
  // It must never keep the owner alive.
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  return (g[WATCHER] = child);
}

/** Pids waiting for the watcher, which starts just after the workers (it is not urgent). */
let pending: number[] | undefined;

export function watchWorker(pid: number): void {
  if (!(pid > 0)) return;
  const g = globalThis as WithWatcher;
  if (g[WATCHER] !== undefined) {
    g[WATCHER]?.stdin!.write(`+ ${pid}\n`);
    return;
  }
  if (!pending) {
    pending = [];
    setImmediate(() => {
      const started = watcher();
      for (const p of pending!) started?.stdin!.write(`+ ${p}\n`);
      pending = undefined;
    });
  }
  pending.push(pid);
}

export function unwatchWorker(pid: number): void {
  if (pending?.includes(pid)) pending.splice(pending.indexOf(pid), 1);
  else if (pid > 0) (globalThis as WithWatcher)[WATCHER]?.stdin!.write(`- ${pid}\n`);
}
