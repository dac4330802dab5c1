/**
 * nbpool: process pools for TypeScript notebooks.
 *
 *   import { Pool } from "nbpool";
 *   const pool = new Pool();
 *   const squares = await pool.map((x: number) => x * x, [1, 2, 3]);
 */
export { Pool, type PoolOptions, type ShutdownOptions, type PoolCalls } from "./pool";
export type { CallOptions, MapOptions, StreamOptions } from "./calls";
export { Future, type FutureState } from "./future";
export { asCompleted, wait, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type ReturnWhen, type WaitOptions } from "./wait";
export { recommendedWorkers, type RecommendOptions, type Explanation, type MachineFacts, type WorkKind } from "./recommend";
export { task, type TaskFunction } from "./task-ref";
export {
  PoolError,
  CaptureError,
  SerializationError,
  WorkerCrashedError,
  TaskTimeoutError,
  TimeoutError,
  PoolClosedError,
  BrokenPoolError,
  RemoteError,
  type RemoteDetails,
} from "./errors";
export { livePools } from "./registry";
export { registerHost, getHost, type Host, type MimeBundle, type CellScript } from "./host";
export { Timeline, PoolStats, lineChart, barChart, Chart, displayBundle, isDisplayable, type LineChartOptions, type BarChartOptions, type LineSeries } from "./display/index";
