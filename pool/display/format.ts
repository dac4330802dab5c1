/** How numbers read in every nbpool display: durations, rates, sizes, percentages. */

/** 0.42 ms, 312 ms, 3.21 s, 2 min 05 s, 1 h 02 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1) return `${trim(ms.toFixed(2))} ms`;
  if (ms < 10) return `${trim(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) {
    const whole = Math.round(s);
    return `${Math.floor(whole / 60)} min ${pad2(whole % 60)} s`;
  }
  const min = Math.round(s / 60);
  return `${Math.floor(min / 60)} h ${pad2(min % 60)} min`;
}

/** 0.5, 12.3, 312, 12,345 (three significant digits below 100, whole numbers above). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 100) return groupThousands(Math.round(n));
  if (n === 0) return "0";
  return trim(n.toPrecision(3));
}

export function formatCount(n: number): string {
  return groupThousands(Math.round(n));
}

/** A rate per second, as "312 items/s". */
export function formatRate(perSecond: number, unit: string): string {
  return `${formatNumber(perSecond)} ${unit}/s`;
}

/** A fraction as a percentage with one decimal: 0.9684 -> "96.8%". */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return "–";
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Bytes in binary units: 45.2 MiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${formatNumber(value)} ${units[unit]}`;
}

function groupThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** "1.50" -> "1.5", "2.00" -> "2". */
function trim(s: string): string {
  return s.includes(".") && !s.includes("e") ? s.replace(/\.?0+$/, "") : s;
}

/** Pad each column of a text table to its widest cell; numbers right-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  // A column reads as numbers (right-aligned) when every cell starts like one: "12", "3.2 s", "–".
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-\d–]/.test(r[i] ?? "")));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}
