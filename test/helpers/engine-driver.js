// Runs the kernel's engine (dist/kernel/cells-engine.js) in its own process for the engine
// tests: requests come over the IPC channel, every message the engine publishes goes back
// tagged with the execute request that it belongs to. stdout/stderr are the engine's (it
// replaces them), so nothing of the driver's protocol goes there.
"use strict";
const path = require("path");
const { createEngine } = require(path.join(__dirname, "..", "..", "dist", "kernel", "cells-engine.js"));

const engine = createEngine();
const controllers = new Map();
const send = (msg) => process.connected && process.send(msg);

process.on("SIGINT", () => engine.interrupt());

process.on("message", async (req) => {
  try {
    switch (req.op) {
      case "execute": {
        const controller = new AbortController();
        controllers.set(req.id, controller);
        const ctx = {
          executionCount: req.count,
          silent: !!req.silent,
          signal: controller.signal,
          publish: (msgType, content) => send({ type: "publish", exec: req.id, msgType, content: JSON.parse(JSON.stringify(content)) }),
        };
        const outcome = await engine.execute(req.code, ctx);
        return send({ type: "reply", id: req.id, value: outcome });
      }
      case "abort":
        controllers.get(req.exec)?.abort(new Error("aborted by the test"));
        return send({ type: "reply", id: req.id, value: null });
      case "interrupt":
        engine.interrupt();
        return send({ type: "reply", id: req.id, value: null });
      case "isComplete":
        return send({ type: "reply", id: req.id, value: engine.isComplete(req.code) });
      case "complete":
        return send({ type: "reply", id: req.id, value: engine.complete(req.code, req.pos) });
      case "inspect":
        return send({ type: "reply", id: req.id, value: engine.inspect(req.code, req.pos, 0) });
      case "shutdown":
        await engine.shutdown(!!req.restart);
        send({ type: "reply", id: req.id, value: null });
        return setTimeout(() => process.exit(0), 10);
      default:
        return send({ type: "reply", id: req.id, error: `unknown op ${req.op}` });
    }
  } catch (err) {
    send({ type: "reply", id: req.id, error: String((err && err.stack) || err) });
  }
});
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
