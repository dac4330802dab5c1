"use strict";
// The closing figures of a run, as text: the ones issue 8 asks for first, then every
// scenario's own, then what failed and which known issues showed.

const line = (label, value) => `  ${label.padEnd(44)} ${value}`;

function flat(value) {
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.join(" ");
  return Object.entries(value).map(([k, v]) => `${k} ${flat(v)}`).join(", ");
}

/** Sum a figure over the scenarios that have it. */
function total(results, key) {
  return results.reduce((sum, r) => sum + (typeof r.figures?.[key] === "number" ? r.figures[key] : 0), 0);
}

function render(results, meta) {
  const by = Object.fromEntries(results.map((r) => [r.name, r.figures ?? {}]));
  const out = [];
  out.push(`nbpool stress (${meta.scale} form) — ${meta.date}, Node ${meta.node}, ${meta.cores} cores, NODE_EXTRA_CA_CERTS ${meta.nodeExtraCaCerts ? "set" : "not set"}, seed ${meta.seed}, ${meta.seconds} s`);
  out.push("");
  out.push("Issue 8 figures");
  if (by.faults) {
    out.push(line("faults injected / survived", `${by.faults.faultsInjected} / ${by.faults.faultsSurvived} (${flat(by.faults.injected)})`));
    out.push(line("fault tasks' outcomes by class", flat(by.faults.byClass)));
  }
  if (by.interrupts) out.push(line("interrupts / next cell right", `${by.interrupts.interrupts} / ${by.interrupts.nextCellCorrect} (${by.interrupts.interruptedMidway} midway, ${by.interrupts.finishedFirst} after the cell ended)`));
  if (by.restarts) out.push(line("kernel restarts / workers surviving", `${by.restarts.restarts} / ${by.restarts.survivors} (${flat(by.restarts.byMode)})`));
  if (by.fuzz) out.push(line("fuzz messages / unsigned code executed", `${by.fuzz.messages} / ${by.fuzz.executedUnsigned} (kernel alive: ${by.fuzz.kernelAlive}, probes answered ${by.fuzz.probesAnswered})`));
  if (by.soak) out.push(line("soak tasks / wrong results", `${by.soak.tasks} / ${by.soak.wrongResults}`));
  if (by.soak) out.push(line("kernel RSS growth over the soak", `${by.soak.kernelRssGrowthMiB} MiB (heap after GC: +${by.soak.kernelHeapGrowthMiB} MiB)`));
  if (by.hostile) out.push(line("hostile inputs handled", `${by.hostile.passed} / ${by.hostile.cases}`));
  if (by.backpressure) out.push(line("back-pressure: max items ahead of consumer", flat(by.backpressure.maxAheadByStream)));
  out.push(line("items lost", total(results, "lost") + total(results, "pending") + total(results, "wrongResults")));
  out.push(line("orphans", total(results, "orphans") + total(results, "survivors")));
  for (const r of results) {
    out.push("");
    out.push(`${r.name}${r.seed !== undefined ? ` (seed ${r.seed})` : ""}: ${r.failures.length === 0 ? "PASS" : `FAIL (${r.failures.length})`}`);
    for (const [k, v] of Object.entries(r.figures ?? {})) {
      if (k === "byCase") for (const [c, s] of Object.entries(v)) out.push(line(`  ${c}`, s));
      else out.push(line(k, flat(v)));
    }
    for (const f of r.failures) out.push(`  FAILED: ${f}`);
    for (const k of r.known ?? []) out.push(`  known issue: ${k}`);
  }
  return out.join("\n");
}

module.exports = { render };
