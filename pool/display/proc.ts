/**
 * Resident memory and CPU time of a process, read from /proc on Linux. Elsewhere, or when
 * the process is gone (or a zombie), the answer is `undefined`: a stats table with a blank
 * cell is better than one that throws.
 */

import { readFileSync } from "node:fs";

export interface ProcessUsage {
  pid: number;
  /** Resident set size (VmRSS), bytes. */
  rss: number;
  /** CPU time in user and kernel mode since the process started, ms. */
  cpuUser: number;
  cpuSystem: number;
}

/**
 * Clock ticks per second of /proc/<pid>/stat times. The kernel reports them in USER_HZ,
 * which is fixed at 100 in the ABI of every architecture Node runs on (x86, arm, arm64,
 * ppc64, s390x, riscv), independently of the kernel's internal HZ. Asking `getconf
 * CLK_TCK` would cost a process spawn per pool for a constant.
 */
export const USER_HZ = 100;

export function readProcessUsage(pid: number): ProcessUsage | undefined {
  if (process.platform !== "linux" || !Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    // The command name (field 2) is in parentheses and may itself contain spaces and
    // parentheses; the fields after the last ")" are plain numbers.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    if (state === "Z" || state === "X") return undefined;
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssKb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!rssKb || !Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return {
      pid,
      rss: Number(rssKb[1]) * 1024,
      cpuUser: (utime * 1000) / USER_HZ,
      cpuSystem: (stime * 1000) / USER_HZ,
    };
  } catch {
    return undefined;
  }
}
