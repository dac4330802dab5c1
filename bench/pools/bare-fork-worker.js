"use strict";
// Worker of the bare fork pool: run the named workload, answer with the task's id.
const workloads = require("../lib/workloads.js");

process.on("message", ({ id, op, arg }) => {
  process.send({ id, result: workloads[op](arg) });
});
// Exit with the owner: a worker must never outlive the bench child.
process.on("disconnect", () => process.exit(0));
