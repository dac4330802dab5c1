/**
 * The live pools of this process, shared by every copy of nbpool loaded in it (on
 * globalThis), so the kernel can interrupt and shut down all of them, and so that a
 * process that exits takes its workers with it.
 */

/** What the registry needs of a pool; duck-typed so that pools of another nbpool copy fit. */
export interface LivePool {
  readonly name: string;
  interrupt(context?: unknown): number;
  shutdown(options?: { cancelPending?: boolean; wait?: boolean; kill?: boolean }): Promise<void>;
  /** Kill every worker at once, synchronously (process exit). */
  killWorkers(): void;
}

const POOLS = Symbol.for("nbpool.pools");
type WithPools = { [POOLS]?: Set<LivePool> };

function pools(): Set<LivePool> {
  const g = globalThis as WithPools;
  if (!g[POOLS]) {
    g[POOLS] = new Set();
    // Workers also exit by themselves when their channel closes; this makes it immediate,
    // and covers workers busy in a synchronous loop.
    process.on("exit", () => {
      for (const pool of g[POOLS]!) pool.killWorkers();
    });
  }
  return g[POOLS]!;
}

export function registerPool(pool: LivePool): void {
  pools().add(pool);
}

export function unregisterPool(pool: LivePool): void {
  pools().delete(pool);
}

/** Every pool of this process that has not been shut down. */
export function livePools(): LivePool[] {
  return [...pools()];
}
