/**
 * The kernel's lifecycle wired to every live pool of the process (all copies of nbpool
 * register in one set, pool/registry.ts):
 *
 *  - interrupt: each pool cancels the pending tasks of the interrupted cell and kills the
 *    workers running its tasks (pool.interrupt(context));
 *  - shutdown / restart: each pool drops its queue and kills its workers;
 *  - rebinding: when a cell rebinds a name that held a pool (re-running `const pool = new
 *    Pool()`), the replaced pool is shut down, and the cell says so.
 */

import { livePools, type LivePool } from "../pool/registry";

/** Interrupts the tasks of `context` in every pool; how many tasks were cancelled. */
export function interruptPools(context: unknown, log: (text: string) => void): number {
  let cancelled = 0;
  for (const pool of livePools()) {
    try {
      cancelled += pool.interrupt(context) || 0;
    } catch (err) {
      log(`interrupting pool ${pool.name} failed: ${(err as Error)?.stack ?? err}`);
    }
  }
  return cancelled;
}

/** Ends every pool now: queued tasks are dropped, running ones killed. */
export async function shutdownPools(log: (text: string) => void): Promise<void> {
  await Promise.all(
    livePools().map((pool) =>
      pool.shutdown({ cancelPending: true, kill: true, wait: true }).catch((err: unknown) => {
        log(`shutting down pool ${pool.name} failed: ${(err as Error)?.stack ?? err}`);
        pool.killWorkers();
      }),
    ),
  );
}

/**
 * A binding watcher for the cell namespace: when `name` stops holding a live pool that no
 * other name holds, shut that pool down and tell the cell (`say`).
 */
export function shutDownReplacedPools(
  namespace: () => Record<string, unknown>,
  say: (text: string) => void,
  log: (text: string) => void,
): (name: string, previous: unknown, next: unknown) => void {
  return (name, previous, next) => {
    if (previous === next || previous === null || typeof previous !== "object") return;
    const pool = livePools().find((p) => p === previous);
    if (!pool || stillBound(namespace(), pool)) return;
    const workers = workerCount(pool);
    const count = workers === undefined ? "" : ` (${workers} worker${workers === 1 ? "" : "s"})`;
    say(`nbpool: shut down the pool previously bound to \`${name}\`${count}\n`);
    pool.shutdown({ cancelPending: true, kill: true, wait: false }).catch((err: unknown) => {
      log(`shutting down the replaced pool ${pool.name} failed: ${(err as Error)?.stack ?? err}`);
    });
  };
}

function stillBound(namespace: Record<string, unknown>, pool: LivePool): boolean {
  for (const key of Object.keys(namespace)) {
    if (namespace[key] === pool) return true;
  }
  return false;
}

function workerCount(pool: LivePool): number | undefined {
  const n = (pool as { workerCount?: unknown }).workerCount;
  return typeof n === "number" ? n : undefined;
}
