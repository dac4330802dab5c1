// The ESM entry: the same module instance as the CommonJS one (no dual-package hazard:
// one registry of pools, one host).
import nbpool from "./index.js";

export const {
  Pool,
  Future,
  asCompleted,
  wait,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
  recommendedWorkers,
  task,
  PoolError,
  CaptureError,
  SerializationError,
  WorkerCrashedError,
  TaskTimeoutError,
  TimeoutError,
  PoolClosedError,
  BrokenPoolError,
  RemoteError,
  livePools,
  registerHost,
  getHost,
} = nbpool;
export type * from "./index.js";
