"use strict";
// The printed table: one block per measure (median, min-max over rounds, the subject's ratio
// to each entry, the goal on the anchor's line), then the goals with PASS / FAIL.
const { ENTRY_LABELS } = require("./plan.js");

const W = { label: 50, median: 9, range: 19, ratio: 10, goal: 18 };

function fmt(x, digits) {
  if (x === undefined || Number.isNaN(x)) return "—";
  return x.toFixed(digits);
}

function ratioText(x) {
  if (x === undefined) return "—";
  return `${x < 10 ? x.toFixed(2) : x.toFixed(1)}x`;
}

function goalTarget(goal, unit) {
  return goal.anchor ? `${goal.op} ${goal.target.toFixed(2)}x` : `${goal.op} ${goal.target} ${unit === "% of ideal" ? "%" : unit}`;
}

function oneLine(text, max = 110) {
  const line = String(text).replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The aux figures worth a glance, as a short note after the numbers. */
function note(measureId, row) {
  const a = row.aux ?? {};
  if (measureId === "payload" && a.roundTripMs !== undefined) return `round trip ${a.roundTripMs.toFixed(1)} ms`;
  if (measureId === "cpu" && a.singleMs !== undefined) return `one task ${a.singleMs.toFixed(0)} ms, 16 took ${a.wallMs.toFixed(0)} ms`;
  if (measureId === "startup" && a.loadMs !== undefined) return `+ require ${a.loadMs.toFixed(0)} ms`;
  return "";
}

function rowText(measure, row, subjectMedian, goals) {
  const label = (labels) => (labels[row.entry] ?? row.entry).padEnd(W.label);
  const head = `  ${label(measure.labels)}`;
  if (row.absent) return `${head}${"—".padStart(W.median)}   (${row.absent})`;
  if (row.median === undefined) {
    if (row.skipped !== undefined) return `${head}  not run: ${oneLine(row.skipped)}`;
    if (row.pending !== undefined) return `${head}  pending: ${oneLine(row.pending)}`;
    const err = row.errors[0];
    return `${head}  FAILED: ${err ? oneLine(err.text) : "no result"}`;
  }
  const isSubject = row.entry === measure.subject;
  const ratio = isSubject || subjectMedian === undefined ? (isSubject ? "" : "—") : ratioText(subjectMedian / row.median);
  const goal = goals.find((g) => (g.anchor ?? g.subject) === row.entry);
  const goalText = goal ? `${goalTarget(goal, measure.unit)}  ${goal.status}` : "";
  const range = row.n > 1 ? `${fmt(row.min, measure.digits)}–${fmt(row.max, measure.digits)}` : "";
  const failed = row.errors.reduce((s, e) => s + e.count, 0);
  const extra = [note(measure.id, row), failed ? `${failed} round(s) failed: ${oneLine(row.errors[0].text, 60)}` : ""].filter(Boolean).join("; ");
  return (
    head +
    fmt(row.median, measure.digits).padStart(W.median) +
    "  " +
    range.padEnd(W.range) +
    ratio.padStart(W.ratio) +
    "  " +
    goalText.padEnd(W.goal) +
    (extra ? `  ${extra}` : "")
  );
}

function render({ meta, measures, goals, problems }, poolLabels) {
  const labels = { ...poolLabels, ...ENTRY_LABELS };
  const out = [];
  out.push(
    `nbpool bench  ${meta.date}  node ${meta.node}  python ${meta.python ?? "not found"}  ${meta.cores} cores  ` +
      `NODE_EXTRA_CA_CERTS ${meta.nodeExtraCaCerts ? "set" : "not set"}  ${meta.rounds} round(s), median (min–max)  ` +
      `load ${meta.loadAverage.before.toFixed(1)} before, ${meta.loadAverage.after.toFixed(1)} after`,
  );
  // Only the load before the run says something about others: the bench itself keeps ~2 cores busy.
  if (meta.loadAverage.before > meta.cores / 2) {
    out.push(`WARNING: the machine was busy before the run (load average ${meta.loadAverage.before.toFixed(1)} on ${meta.cores} cores): other work skews these figures, CPU efficiency first`);
  }
  out.push(`every pool has ${meta.workload.workers} workers; CPU task = ${meta.spinN.node} iterations (~${meta.workload.cpuTaskMs} ms), Python ${meta.spinN.python ?? "—"}`);
  for (const m of measures) {
    const subject = m.subject ?? "nbpool";
    const subjectMedian = m.rows.find((r) => r.entry === subject)?.median;
    out.push("");
    out.push(`${m.title} — ${m.unit}, ${m.better} is better`);
    out.push(
      `  ${"".padEnd(W.label)}${"median".padStart(W.median)}  ${"min–max".padEnd(W.range)}${(m.ratioHeader ?? "nbpool ÷").padStart(W.ratio)}  ${"goal".padEnd(W.goal)}`,
    );
    const mGoals = goals.filter((g) => g.measure === m.id);
    for (const row of m.rows) out.push(rowText({ ...m, subject, labels }, row, subjectMedian, mGoals));
  }
  out.push("");
  out.push("goals (issue 7)");
  for (const g of goals) {
    const m = measures.find((x) => x.id === g.measure);
    const value = g.value === undefined ? "—" : g.anchor ? ratioText(g.value) : g.value.toFixed(1);
    out.push(`  ${g.text.padEnd(62)}${value.padStart(8)}  ${goalTarget(g, m.unit).padEnd(10)}  ${g.status}`);
  }
  // Every pool reaches 97-99% on an idle machine: anchors far below that mean others were running.
  const cpu = measures.find((m) => m.id === "cpu");
  const anchorsCpu = cpu.rows.filter((r) => r.entry !== "nbpool" && r.median !== undefined).map((r) => r.median);
  if (anchorsCpu.length > 0 && Math.max(...anchorsCpu) < 90) {
    out.push("");
    out.push(`WARNING: no anchor reached 90% of ideal on the CPU row (best ${Math.max(...anchorsCpu).toFixed(1)}%): other work shared the cores during this run`);
  }
  if (problems.length > 0) {
    out.push("");
    out.push("problems outside the rows");
    for (const p of problems) out.push(`  ${oneLine(p, 150)}`);
  }
  return out.join("\n");
}

module.exports = { render };
