/**
 * How many workers a pool should have, by a written rule (DESIGN.md):
 *   CPU-bound work: one worker per physical core (hyperthreads add little to CPU-bound JS);
 *   light I/O: 1.5x that; heavy I/O: 2x;
 *   never more than the container's CPU quota allows (cgroup cpu.max, which os.cpus()
 *   does not see), times the same I/O factor;
 *   never more than memory holds: 0.9 x memory / memory per task (memory is the smaller
 *   of the machine's and the cgroup's limit).
 * The facts are read from the machine, or injected (tests, "what if" questions).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { explainDisplay, type WorkerCountDisplay } from "./display/explain";

export type WorkKind = "cpu" | "io-light" | "io-heavy";

export interface MachineFacts {
  logicalCpus: number;
  /** Distinct (physical id, core id) pairs; undefined when the platform does not say. */
  physicalCores?: number;
  /** CPUs the cgroup quota allows (quota / period); undefined when unlimited. */
  cpuQuota?: number;
  /** The smaller of physical memory and the cgroup memory limit, in MB. */
  memoryMb: number;
}

export interface RecommendOptions {
  kind?: WorkKind;
  /** Memory one task needs, in MB; caps the count so that all workers fit in memory. */
  taskMemoryMb?: number;
  /** Override what is read from the machine. */
  facts?: Partial<MachineFacts>;
}

/** The count and how it was reached; displays as a small table in a notebook. */
export type Explanation = WorkerCountDisplay & {
  workers: number;
  kind: WorkKind;
  facts: MachineFacts;
  /** Each step of the rule, in words. */
  steps: string[];
};

const FACTOR: Record<WorkKind, number> = { cpu: 1, "io-light": 1.5, "io-heavy": 2 };

export function explainWorkers(options: RecommendOptions = {}): Explanation {
  const kind = options.kind ?? "cpu";
  if (!(kind in FACTOR)) throw new TypeError(`kind must be "cpu", "io-light" or "io-heavy", not ${JSON.stringify(kind)}`);
  const facts: MachineFacts = { ...readMachineFacts(), ...options.facts };
  const steps: string[] = [];
  let cores = facts.physicalCores ?? facts.logicalCpus;
  steps.push(
    facts.physicalCores !== undefined
      ? `${facts.physicalCores} physical cores (${facts.logicalCpus} logical CPUs)`
      : `${facts.logicalCpus} logical CPUs (physical cores unknown)`,
  );
  if (facts.cpuQuota !== undefined && facts.cpuQuota < cores) {
    cores = Math.max(1, Math.floor(facts.cpuQuota));
    steps.push(`the container's CPU quota allows ${formatNumber(facts.cpuQuota)} CPUs: ${cores}`);
  }
  let memoryCap: number | null = null;
  let workers = Math.max(1, Math.round(cores * FACTOR[kind]));
  steps.push(kind === "cpu" ? `CPU-bound: one worker per core: ${workers}` : `${kind}: ${FACTOR[kind]} x ${cores} cores = ${workers}`);
  if (options.taskMemoryMb !== undefined) {
    if (!(options.taskMemoryMb > 0)) throw new RangeError(`taskMemoryMb must be a positive number of MB, not ${options.taskMemoryMb}`);
    const fit = Math.max(1, Math.floor((facts.memoryMb * 0.9) / options.taskMemoryMb));
    memoryCap = fit;
    if (fit < workers) {
      workers = fit;
      steps.push(`memory: 0.9 x ${Math.round(facts.memoryMb)} MB / ${options.taskMemoryMb} MB per task fits ${fit}`);
    } else {
      steps.push(`memory: room for ${fit} workers of ${options.taskMemoryMb} MB, no cap`);
    }
  }
  const table = {
    workers,
    kind,
    cores: facts.logicalCpus,
    physicalCores: facts.physicalCores,
    cpuQuota: facts.cpuQuota ?? null,
    memoryCap,
    reasons: steps,
  };
  return Object.assign(explainDisplay(table), { workers, kind, facts, steps });
}

/** The worker count the rule gives for this machine and kind of work. */
export function recommendedWorkers(options: RecommendOptions = {}): number {
  return explainWorkers(options).workers;
}

/** Show how the count was reached: `recommendedWorkers.explain({ kind: "io-heavy" })`. */
recommendedWorkers.explain = explainWorkers;

let cachedFacts: MachineFacts | undefined;

export function readMachineFacts(): MachineFacts {
  cachedFacts ??= {
    logicalCpus: typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length,
    physicalCores: readPhysicalCores(),
    cpuQuota: readCpuQuota(),
    memoryMb: Math.min(os.totalmem(), readCgroupMemoryLimit() ?? Infinity) / 2 ** 20,
  };
  return cachedFacts;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Linux: count distinct (physical id, core id) pairs in /proc/cpuinfo. */
export function parsePhysicalCores(cpuinfo: string): number | undefined {
  const cores = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const socket = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (socket !== undefined && core !== undefined) cores.add(`${socket}:${core}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

function readPhysicalCores(): number | undefined {
  const info = read("/proc/cpuinfo");
  return info === undefined ? undefined : parsePhysicalCores(info);
}

/** The cgroup of this process for a controller (v1) or the unified hierarchy (v2). */
function cgroupDir(controller: string): { v2: string | undefined; v1: string | undefined } {
  const lines = (read("/proc/self/cgroup") ?? "").split("\n");
  const v2 = lines.find((l) => l.startsWith("0::"))?.slice(3);
  const v1 = lines.map((l) => l.split(":")).find((parts) => parts[1]?.split(",").includes(controller))?.[2];
  return {
    v2: v2 === undefined ? undefined : `/sys/fs/cgroup${v2 === "/" ? "" : v2}`,
    v1: v1 === undefined ? undefined : `/sys/fs/cgroup/${controller}${v1 === "/" ? "" : v1}`,
  };
}

/** cgroup v2 "max 100000" / "200000 100000", or v1 cfs_quota_us / cfs_period_us. */
export function parseCpuQuota(cpuMax: string | undefined, v1Quota?: string, v1Period?: string): number | undefined {
  if (cpuMax !== undefined) {
    const [quota, period] = cpuMax.trim().split(/\s+/);
    if (quota === "max" || !period) return undefined;
    return Number(quota) / Number(period);
  }
  if (v1Quota !== undefined && v1Period !== undefined && Number(v1Quota) > 0) return Number(v1Quota) / Number(v1Period);
  return undefined;
}

function readCpuQuota(): number | undefined {
  const dir = cgroupDir("cpu");
  const v2 = dir.v2 && (read(`${dir.v2}/cpu.max`) ?? read("/sys/fs/cgroup/cpu.max"));
  if (v2) return parseCpuQuota(v2);
  for (const base of [dir.v1, "/sys/fs/cgroup/cpu"]) {
    if (!base) continue;
    const quota = read(`${base}/cpu.cfs_quota_us`);
    if (quota !== undefined) return parseCpuQuota(undefined, quota, read(`${base}/cpu.cfs_period_us`));
  }
  return undefined;
}

function readCgroupMemoryLimit(): number | undefined {
  const dir = cgroupDir("memory");
  const candidates = [dir.v2 && `${dir.v2}/memory.max`, dir.v1 && `${dir.v1}/memory.limit_in_bytes`, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"];
  for (const file of candidates) {
    const text = file ? read(file)?.trim() : undefined;
    if (text === undefined) continue;
    const bytes = Number(text);
    // "max", or v1's "no limit" (a page-rounded 2^63).
    return Number.isFinite(bytes) && bytes < 2 ** 60 ? bytes : undefined;
  }
  return undefined;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
