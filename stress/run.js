#!/usr/bin/env node
"use strict";
// npm run stress: the reliability and security suite of issue 8 in its long form — fault
// injection, interrupt storm, soak, restart loop, protocol fuzz, hostile inputs,
// back-pressure — run one after another, bounded in time, ending with the figures the issue
// asks for. `npm test` runs the same scenarios scaled down (test/stress*.test.ts, test/hostile*.test.ts).
//
//   node stress/run.js [--short] [--only faults,soak,...] [--seed N] [--json FILE]
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { render } = require("./lib/report");

const SCENARIOS = {
  faults: () => require("./scenarios/faults").run,
  interrupts: () => require("./scenarios/interrupts").run,
  restarts: () => require("./scenarios/restarts").run,
  soak: () => require("./scenarios/soak").run,
  fuzz: () => require("./scenarios/fuzz").run,
  hostile: () => require("./scenarios/hostile").run,
  "hostile-kernel": () => (_scale, settings) => require("./scenarios/hostile").runInKernel(settings),
  backpressure: () => require("./scenarios/backpressure").run,
};
/** No scenario may take longer than this; the whole run stays within a few minutes. */
const SCENARIO_LIMIT_MS = 300_000;

const USAGE = `usage: node stress/run.js [--short] [--only NAMES] [--seed N] [--json FILE]
  --short      the scaled-down figures npm test uses
  --only NAMES comma-separated, of: ${Object.keys(SCENARIOS).join(", ")}
  --seed N     the random seed (default: from the clock; printed, so a run can be repeated)
  --json FILE  where to write the figures (default stress/results/latest.json)`;

function parseArgs(argv) {
  const opts = { scale: "long", only: Object.keys(SCENARIOS), seed: Date.now() % 1e9, json: path.join(__dirname, "results", "latest.json") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--short") opts.scale = "short";
    else if (a === "--only") opts.only = value().split(",");
    else if (a === "--seed") opts.seed = Number(value());
    else if (a === "--json") opts.json = path.resolve(value());
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const name of opts.only) if (!SCENARIOS[name]) throw new Error(`--only: no scenario named ${name}\n${USAGE}`);
  if (!Number.isInteger(opts.seed)) throw new Error("--seed takes a whole number");
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const results = [];
  for (const name of opts.only) {
    const t0 = Date.now();
    console.error(`[stress] ${name} (${opts.scale})...`);
    let timer;
    const limit = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${SCENARIO_LIMIT_MS / 1000} s`)), SCENARIO_LIMIT_MS)));
    try {
      const run = SCENARIOS[name]();
      results.push(await Promise.race([run(opts.scale, { seed: opts.seed, log: (text) => console.error(`[stress]   ${text}`) }), limit]));
    } catch (err) {
      results.push({ name, figures: {}, failures: [`the scenario threw: ${err && err.stack}`], known: [] });
    } finally {
      clearTimeout(timer);
    }
    console.error(`[stress] ${name}: ${results[results.length - 1].failures.length ? "FAIL" : "pass"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const meta = {
    scale: opts.scale,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    node: process.version,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    nodeExtraCaCerts: !!process.env.NODE_EXTRA_CA_CERTS,
    seed: opts.seed,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  console.log(render(results, meta));
  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  fs.writeFileSync(opts.json, JSON.stringify({ meta, results }, null, 2));
  const failed = results.filter((r) => r.failures.length > 0).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  // Exit explicitly: a scenario that failed may have left a handle behind.
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(2);
});
