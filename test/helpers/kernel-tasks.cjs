// Task functions for the kernel lifecycle tests, named with task(module, exportName) so they
// run the same whatever the engine captures. Each worker records its pid in `dir` before it
// waits, so the test can count live workers from outside.
const fs = require("fs");
const path = require("path");

exports.sleepAndRecord = async function sleepAndRecord({ dir, ms }) {
  fs.writeFileSync(path.join(dir, String(process.pid)), "");
  await new Promise((resolve) => setTimeout(resolve, ms));
  return process.pid;
};

exports.pid = function pid() {
  return process.pid;
};
