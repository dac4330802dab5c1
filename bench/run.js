#!/usr/bin/env node
"use strict";
// npm run bench: nbpool against its anchors (piscina, tinypool, a bare fork pool, Python's
// ProcessPoolExecutor) on the same workloads, several rounds interleaved across pools, each
// pool in a fresh child process per round. Prints medians with min-max, nbpool's ratio to
// each anchor and issue 7's goals; writes the same as JSON to bench/results/latest.json.
//
//   node bench/run.js [--rounds N] [--quick] [--only nbpool,python,...] [--json FILE]
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { ROOT, pools, MEASURES, WORKLOAD } = require("./lib/plan.js");
const { Results, judgeGoals } = require("./lib/results.js");
const { runChild, killAll } = require("./lib/spawn-child.js");
const { calibrateNode, calibratePython, findPython } = require("./lib/calibrate.js");
const { render } = require("./lib/report.js");

const CHILD_TIMEOUT_MS = 120_000;
const USAGE = `usage: node bench/run.js [--rounds N] [--quick] [--only ID,ID] [--json FILE]
  --rounds N   rounds per pool (default 5); medians and min-max are over rounds
  --quick      a smoke run: 2 rounds
  --only IDS   run only these children (${pools().map((p) => p.id).join(", ")})
  --json FILE  where to write the results (default bench/results/latest.json)`;

function parseArgs(argv) {
  const opts = { rounds: 5, only: undefined, json: path.join(__dirname, "results", "latest.json") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--rounds") opts.rounds = Number(value());
    else if (a === "--quick") opts.rounds = 2;
    else if (a === "--only") opts.only = value().split(",");
    else if (a === "--json") opts.json = path.resolve(value());
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error("--rounds takes a whole number >= 1");
  const known = pools().map((p) => p.id);
  for (const id of opts.only ?? []) if (!known.includes(id)) throw new Error(`--only: no child named ${id} (${known.join(", ")})`);
  return opts;
}

/** The command line of one child for one round. */
function commandOf(pool, cfg, python) {
  const json = JSON.stringify(cfg);
  if (pool.command === "python") return [python, [pool.script, json]];
  return [process.execPath, [pool.script, json]];
}

/** Why a child cannot run at all (then its rows say so and it is not started), or undefined. */
function blocker(pool, python) {
  if (pool.needs && !fs.existsSync(pool.needs)) return { text: `${path.relative(ROOT, pool.needs)} is not built yet`, pending: true };
  if (pool.command === "python" && !python) return { text: "no python3 found (/usr/bin/python3 or python3 on PATH)" };
  return undefined;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const loadBefore = os.loadavg()[0]; // before calibration, which is load of our own
  process.on("SIGINT", () => {
    killAll();
    process.exit(130);
  });

  const python = findPython();
  const spinN = { node: calibrateNode(WORKLOAD.cpuTaskMs) };
  let pythonVersion;
  const children = pools().filter((p) => !opts.only || opts.only.includes(p.id));
  const results = new Results();
  if (python && children.some((p) => p.command === "python")) {
    try {
      const cal = calibratePython(python, children.find((p) => p.command === "python").script, WORKLOAD.cpuTaskMs);
      spinN.python = cal.spinN;
      pythonVersion = cal.version;
    } catch (err) {
      results.failChild("python", err.message);
    }
  }

  const meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    node: process.version,
    python: pythonVersion,
    pythonPath: python,
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    nodeExtraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS),
    // Other work on the machine skews everything (CPU efficiency first): say how busy it was.
    loadAverage: { before: loadBefore },
    rounds: opts.rounds,
    workload: WORKLOAD,
    spinN,
  };

  for (const p of pools()) if (!children.some((c) => c.id === p.id)) results.skipChild(p.id, "left out by --only");

  const started = Date.now();
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate the order each round so that no pool always runs first or last.
    const order = children.map((_, i) => children[(i + round) % children.length]);
    const progress = [];
    for (const pool of order) {
      const blocked = blocker(pool, python);
      if (blocked || (pool.command === "python" && spinN.python === undefined)) {
        if (blocked && round === 0) results.failChild(pool.id, blocked.text, { pending: blocked.pending });
        progress.push(`${pool.id} skipped`);
        continue;
      }
      const cfg = { ...WORKLOAD, ...pool.extra, id: pool.id, spinN: spinN.node, pySpinN: spinN.python };
      const [command, args] = commandOf(pool, cfg, python);
      const t0 = Date.now();
      try {
        const { entries, leaked } = await runChild(command, args, { cwd: ROOT, timeoutMs: CHILD_TIMEOUT_MS });
        results.addChild(pool.id, entries);
        for (const cmd of leaked) results.problems.push(`${pool.id}: round ${round + 1}: a process outlived its pool and was killed: ${cmd}`);
      } catch (err) {
        results.failChild(pool.id, err.message);
      }
      progress.push(`${pool.id} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
    console.error(`round ${round + 1}/${opts.rounds}: ${progress.join("  ")}`);
  }
  meta.elapsedS = Math.round((Date.now() - started) / 1000);
  meta.loadAverage.after = os.loadavg()[0];

  const measures = results.summary(opts.rounds);
  const goals = judgeGoals(measures);
  const poolLabels = Object.fromEntries(pools().map((p) => [p.id, p.label]));
  const problems = results.problems;
  console.log(render({ meta, measures, goals, problems }, poolLabels));

  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  const labelled = measures.map((m) => ({ ...m, rows: m.rows.map((r) => ({ ...r, label: poolLabels[r.entry] ?? r.entry })) }));
  fs.writeFileSync(opts.json, `${JSON.stringify({ meta, measures: labelled, goals, problems }, null, 2)}\n`);
  console.error(`\nwrote ${path.relative(process.cwd(), opts.json)} (${meta.elapsedS} s)`);
}

main().catch((err) => {
  killAll();
  console.error(err && err.message ? `bench: ${err.message}` : err);
  process.exit(1);
});
