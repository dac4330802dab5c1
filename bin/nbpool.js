#!/usr/bin/env node
// The nbpool command line. Each subcommand lives in its own compiled module under dist/.
"use strict";
const path = require("path");

const commands = {
  kernel: ["kernel/main.js", "run the Jupyter kernel (used by Jupyter: nbpool kernel -f CONNECTION_FILE)"],
  install: ["kernel/install.js", "install the 'nbpool' kernelspec (--user | --sys-prefix | --prefix DIR)"],
  run: ["kernel/runner/main.js", "execute a notebook headlessly: nbpool run NB.ipynb [--out FILE | --inplace] [--timeout S]"],
  demo: ["pool/demo.js", "map a CPU-bound function over a pool and print the speedup"],
};

const [name, ...args] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([c, [, help]]) => `  ${c.padEnd(width)}  ${help}`);
  console.error(`usage: nbpool <command> [args]\n\ncommands:\n${lines.join("\n")}`);
  process.exit(name === undefined || name === "--help" || name === "-h" ? 0 : 2);
}
const modulePath = path.join(__dirname, "..", "dist", command[0]);
Promise.resolve(require(modulePath).main(args)).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
