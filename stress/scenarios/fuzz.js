"use strict";
// Protocol fuzz: thousands of malformed, truncated, oversized, unsigned and wrongly signed
// messages on every kernel socket (shell, control, stdin through zeromq; all five ports,
// iopub and heartbeat included, as raw TCP garbage). The kernel must stay up, answer the
// next valid request, drop every message that is not correctly signed (saying so only in
// its own log), execute none of them, and not run a replayed one twice.
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const zmq = require("zeromq");
const { endpoint } = require("../../dist/kernel/connection.js");
const { Checks, mib, rng, within } = require("../lib/common");
const { makeCases, spoiledExecute, frames } = require("../lib/fuzz-cases");
const { startKernel } = require("../lib/kernel");
const { isAlive, rssOf, until } = require("../lib/procs");

const SCALES = {
  long: { messages: 5000, probeEvery: 100 },
  short: { messages: 300, probeEvery: 50 },
};

const CHANNELS = ["shell", "shell", "shell", "control", "control", "stdin"];
const PORTS = ["shell", "control", "stdin", "iopub", "hb"];

async function run(scale = "long", { seed = Date.now() % 1e9, log = () => {} } = {}) {
  const options = SCALES[scale];
  const random = rng(seed);
  const checks = new Checks();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-stress-fuzz-"));
  const marker = path.join(dir, "executed");
  const counter = path.join(dir, "replayed");
  const started = Date.now();
  let droppedLogged = 0;
  const kernel = await startKernel({
    onStderr: (text) => {
      droppedLogged += (text.match(/dropped a message on/g) ?? []).length;
      if (process.env.STRESS_FUZZ_LOG) fs.appendFileSync(process.env.STRESS_FUZZ_LOG, text);
    },
  });
  const key = kernel.connection.key;
  const published = [];
  const stopListening = kernel.onIopub((m) => published.push(m));
  const sockets = {};
  const replies = { count: 0 };
  for (const ch of ["shell", "control", "stdin", "hb"]) {
    sockets[ch] = new zmq.Dealer({ linger: 0, sendTimeout: 30_000 });
    sockets[ch].connect(endpoint(kernel.connection, ch));
    void (async () => {
      try {
        for await (const _ of sockets[ch]) replies.count++;
      } catch {
        // closed
      }
    })();
  }
  const sent = { total: 0, dropped: 0, accepted: 0, executeAttempts: 0, tcpGarbage: 0, heartbeatGarbage: 0, byKind: {}, byChannel: {} };
  const probes = { ok: 0, failed: 0 };
  const rssBefore = rssOf(kernel.pid);
  let rssMax = rssBefore;
  const { dropped, accepted } = makeCases(random, kernel.session);
  const droppedKinds = Object.keys(dropped);
  const acceptedKinds = Object.keys(accepted);
  const attempts = {};

  const send = async (channel, list, kind, expectDrop) => {
    await sockets[channel].send(list);
    sent.total++;
    sent.byKind[kind] = (sent.byKind[kind] ?? 0) + 1;
    sent.byChannel[channel] = (sent.byChannel[channel] ?? 0) + 1;
    if (expectDrop) sent.dropped++;
    else sent.accepted++;
  };
  const tcpGarbage = (port) =>
    new Promise((resolve) => {
      const socket = net.connect(kernel.connection[`${port}_port`], kernel.connection.ip, () => {
        socket.end(random.bytes(random.int(1, 4096)));
      });
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
      // zeromq may keep a connection that never finished its handshake open: do not wait on it.
      socket.setTimeout(300, () => socket.destroy());
    });
  const probe = async (i) => {
    const channel = i % 2 ? "control" : "shell";
    const reply = await within(kernel.request(channel, "kernel_info_request", {}, 30_000), 31_000);
    if (reply.status === "fulfilled" && reply.value.content.status === "ok") probes.ok++;
    else {
      probes.failed++;
      checks.fail(`after ${i} messages the kernel did not answer kernel_info on ${channel}: ${reply.reason ? reply.reason.message : reply.status}`);
    }
    rssMax = Math.max(rssMax, rssOf(kernel.pid));
  };

  try {
    // A correctly signed execute that counts its runs, then the very same frames again.
    const replay = frames(kernel.session, "execute_request", { code: `require("fs").appendFileSync(${JSON.stringify(counter)}, "r")`, silent: false });
    await send("shell", replay, "valid-execute", false);
    await until(() => fs.existsSync(counter), 20_000);
    await send("shell", replay, "replayed-execute", true);

    for (let i = 1; i <= options.messages; i++) {
      const roll = random();
      if (roll < 0.01) {
        await tcpGarbage(random.pick(PORTS));
        sent.tcpGarbage++;
      } else if (roll < 0.02) {
        await sockets.hb.send([random.bytes(random.int(0, 256))]);
        sent.heartbeatGarbage++;
      } else if (roll < 0.05) {
        const channel = random.pick(CHANNELS);
        const { way, frames: list } = spoiledExecute(random, kernel.session, `require("fs").appendFileSync(${JSON.stringify(marker)}, ${JSON.stringify(`${channel}:${i}`)})`);
        attempts[way] = (attempts[way] ?? 0) + 1;
        sent.executeAttempts++;
        await send(channel, list, `execute-${way}`, true);
      } else if (roll < 0.14) {
        const kind = random.pick(acceptedKinds);
        await send(random.pick(CHANNELS.slice(0, 5)), accepted[kind](), kind, false);
      } else {
        const kind = random.pick(droppedKinds);
        await send(random.pick(CHANNELS), dropped[kind](), kind, true);
      }
      if (i % options.probeEvery === 0) {
        await probe(i);
        if (i % (options.probeEvery * 10) === 0) log(`fuzz: ${i} messages`);
      }
    }
    await probe(options.messages);
    // Every spoiled message reached the kernel and was dropped, each noted in its log.
    await until(() => droppedLogged >= sent.dropped, 20_000);
    // Raw TCP garbage can pass as legacy ZMTP framing and arrive as more messages to drop.
    checks.that(droppedLogged >= sent.dropped, `the kernel logged ${droppedLogged} dropped messages; ${sent.dropped} were sent that it must drop`);
    const after = await within(kernel.execute("6 * 7", { timeoutMs: 30_000 }), 31_000);
    const text = after.status === "fulfilled" ? after.value.outputs.find((m) => m.header.msg_type === "execute_result")?.content.data["text/plain"] : undefined;
    checks.that(text === "42", () => `a valid execute_request after the fuzz returned ${text ?? after.status}`);
  } catch (err) {
    checks.fail(`the fuzz stopped: ${err.stack}`);
  } finally {
    stopListening();
    for (const s of Object.values(sockets)) s.close();
  }
  const alive = !kernel.exited && isAlive(kernel.pid);
  checks.that(alive, "the kernel process died during the fuzz");
  const executed = fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : "";
  checks.that(executed === "", `code from messages that were not correctly signed ran: ${executed}`);
  const runs = fs.existsSync(counter) ? fs.readFileSync(counter, "utf8").length : 0;
  checks.that(runs === 1, `a correctly signed execute_request sent twice ran ${runs} times (expected once: the replay must be dropped)`);
  const leaked = published.filter((m) => {
    const text = JSON.stringify(m);
    return text.includes(key) || /signature/i.test(text) || text.includes(marker);
  });
  checks.that(leaked.length === 0, () => `iopub published ${leaked.length} messages about the bad messages (e.g. ${JSON.stringify(leaked[0]).slice(0, 300)})`);
  const rssAfter = rssOf(kernel.pid);
  await kernel.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    name: "fuzz",
    seed,
    figures: {
      messages: sent.total + sent.tcpGarbage + sent.heartbeatGarbage,
      mustDrop: sent.dropped,
      droppedByKernel: droppedLogged,
      droppedFromTcpGarbage: Math.max(0, droppedLogged - sent.dropped),
      correctlySignedOdd: sent.accepted,
      spoiledExecuteAttempts: sent.executeAttempts,
      spoiledExecuteWays: attempts,
      executedUnsigned: executed === "" ? 0 : executed.split(/(?=shell:|control:|stdin:)/).length,
      replayRuns: runs,
      tcpGarbageConnections: sent.tcpGarbage,
      heartbeatGarbage: sent.heartbeatGarbage,
      byChannel: sent.byChannel,
      probesAnswered: `${probes.ok}/${probes.ok + probes.failed}`,
      repliesToAccepted: replies.count,
      iopubLeaks: leaked.length,
      kernelAlive: alive,
      kernelRssMiB: { before: mib(rssBefore), max: mib(rssMax), after: mib(rssAfter) },
      seconds: (Date.now() - started) / 1000,
    },
    failures: checks.failures,
    known: [],
  };
}

module.exports = { run, SCALES };
