/**
 * `recommendedWorkers.explain()` as something to look at: the inputs of the rule (cores,
 * CPU quota, memory cap) and the reasons it gives, as a small table.
 */

import { Displayable, escapeHtml, type MimeBundle } from "./bundle";
import { formatNumber, textTable } from "./format";

/** What pool/recommend.ts reports; fields it does not fill are left out of the table. */
export interface WorkerCountExplanation {
  workers: number;
  /** The workload kind the count was made for: "cpu", "io", "heavy-io". */
  kind?: string;
  /** Logical cores (os.availableParallelism / os.cpus). */
  cores?: number;
  physicalCores?: number;
  /** Cores' worth of CPU the container may use (cgroup cpu.max); null or undefined: no quota. */
  cpuQuota?: number | null;
  /** Most workers memory allows; null or undefined: no cap. */
  memoryCap?: number | null;
  reasons: readonly string[];
  [other: string]: unknown;
}

const LABELS: Array<[keyof WorkerCountExplanation, string, (v: unknown) => string]> = [
  ["kind", "workload", String],
  ["cores", "logical cores", (v) => formatNumber(v as number)],
  ["physicalCores", "physical cores", (v) => formatNumber(v as number)],
  ["cpuQuota", "CPU quota", (v) => (v === null ? "none" : `${formatNumber(v as number)} cores`)],
  ["memoryCap", "memory cap", (v) => (v === null ? "none" : `${formatNumber(v as number)} workers`)],
];

export class WorkerCountDisplay extends Displayable {
  constructor(readonly explanation: WorkerCountExplanation) {
    super();
  }

  private rows(): Array<[string, string]> {
    const e = this.explanation;
    const rows: Array<[string, string]> = [];
    for (const [key, name, show] of LABELS) {
      if (key in e && e[key] !== undefined) rows.push([name, show(e[key])]);
    }
    // Fields the rule may grow later still show up, as they are.
    const known = new Set<string>(["workers", "reasons", ...LABELS.map(([k]) => k as string)]);
    for (const [key, value] of Object.entries(e)) {
      if (!known.has(key) && value !== undefined && (typeof value !== "object" || value === null)) rows.push([key, String(value)]);
    }
    return rows;
  }

  toText(): string {
    const e = this.explanation;
    const lines = [`recommended workers: ${e.workers}`];
    const rows = this.rows();
    if (rows.length > 0) lines.push(textTable(["", ""], rows).split("\n").slice(1).map((l) => `  ${l}`).join("\n"));
    if (e.reasons.length > 0) lines.push("  because:", ...e.reasons.map((r) => `    - ${r}`));
    return lines.join("\n");
  }

  protected richBundle(): MimeBundle {
    const e = this.explanation;
    const rows = this.rows()
      .map(([k, v]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td style="text-align:right">${escapeHtml(v)}</td></tr>`)
      .join("");
    const reasons = e.reasons.length > 0 ? `<ul>${e.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>` : "";
    return {
      "text/html":
        `<div class="nbpool-workers"><table><caption style="text-align:left;font-weight:bold">recommended workers: ${escapeHtml(String(e.workers))}</caption>` +
        `${rows}</table>${reasons}</div>`,
    };
  }
}

export function explainDisplay(explanation: WorkerCountExplanation): WorkerCountDisplay {
  return new WorkerCountDisplay(explanation);
}
