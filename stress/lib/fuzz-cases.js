"use strict";
// Malformed, truncated, oversized, unsigned and wrongly signed Jupyter messages, made from a
// seeded random source. Each case says whether a correct kernel must drop it unread
// (`dropped`) or may act on it (it is correctly signed, however odd its content).
const { Session, Signer } = require("../../dist/kernel/wire.js");

const DELIMITER = Buffer.from("<IDS|MSG>");
const json = (v) => Buffer.from(JSON.stringify(v));

/** The frames of a message as a client sends them (no routing prefix), signed with `signer`. */
function frames(session, msgType, content, signer = session.signer) {
  const msg = session.message(msgType, content);
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map(json);
  return [DELIMITER, Buffer.from(signer.sign(parts), "ascii"), ...parts];
}

function resign(list, signer) {
  return [list[0], Buffer.from(signer.sign(list.slice(2, 6)), "ascii"), ...list.slice(2)];
}

const ODD_REQUESTS = [
  ["kernel_info_request", { junk: [1, { deep: [null] }] }],
  ["no_such_request", { a: 1 }],
  ["complete_request", { code: "Math.", cursor_pos: 1e9 }],
  ["complete_request", { code: "Math.", cursor_pos: -5 }],
  ["complete_request", { code: { not: "a string" }, cursor_pos: "x" }],
  ["inspect_request", { code: 42, cursor_pos: null, detail_level: "high" }],
  ["is_complete_request", { code: ["array"] }],
  ["is_complete_request", {}],
  ["history_request", { hist_access_type: "search", pattern: "*".repeat(1000) }],
  ["comm_open", {}],
  ["comm_msg", { comm_id: null, data: "x" }],
  ["comm_info_request", { target_name: 7 }],
  ["execute_request", { code: 123, silent: "yes" }],
  ["execute_request", { silent: true }],
];

/**
 * Builds the cases. `session` signs with the connection key; `foreign` with another key.
 * `marker(kind)` gives the frames of an execute_request that would prove execution.
 */
function makeCases(random, session) {
  const foreign = new Session(new Signer(`not-the-key-${random.int(0, 1e9)}`));
  const harmless = () => frames(session, "kernel_info_request", {});
  const randomFrames = (n, max) => Array.from({ length: n }, () => random.bytes(random.int(0, max)));
  const hex = (n) => [...random.bytes(n)].map((b) => b.toString(16).padStart(2, "0")).join("");

  const kinds = {
    // Never valid: dropped by the kernel before anything reads the content.
    "no-delimiter": () => randomFrames(random.int(1, 7), 64),
    "too-few-frames": () => harmless().slice(0, random.int(1, 5)),
    "empty-frames": () => [DELIMITER, Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)],
    unsigned: () => {
      const f = harmless();
      f[1] = Buffer.alloc(0);
      return f;
    },
    "random-signature": () => {
      const f = harmless();
      f[1] = Buffer.from(hex(32));
      return f;
    },
    "foreign-key": () => frames(foreign, "kernel_info_request", {}),
    "truncated-signature": () => {
      const f = harmless();
      f[1] = f[1].subarray(0, random.int(0, f[1].length - 1));
      return f;
    },
    "uppercase-signature": () => {
      const f = harmless();
      f[1] = Buffer.from(f[1].toString().toUpperCase());
      return f;
    },
    tampered: () => {
      const f = frames(session, "is_complete_request", { code: "1" });
      f[5] = json({ code: "2" });
      return f;
    },
    "truncated-json": () => {
      const f = harmless();
      const at = 2 + random.int(0, 3);
      f[at] = f[at].subarray(0, random.int(0, f[at].length - 1));
      return f;
    },
    "random-binary": () => [DELIMITER, ...randomFrames(random.int(1, 8), 512)],
    "many-frames": () => [DELIMITER, ...randomFrames(random.int(200, 800), 8)],
    oversized: () => {
      const f = harmless();
      f[5] = Buffer.alloc(random.int(1, 8) << 20, 0x61);
      if (random() < 0.5) f[1] = Buffer.from(hex(32));
      return f;
    },
    // Correctly signed but not a message: still dropped (the content is never acted on).
    "signed-not-json": () => resign([DELIMITER, Buffer.alloc(0), random.bytes(20), json({}), json({}), json({})], session.signer),
    "signed-header-array": () => resign([DELIMITER, Buffer.alloc(0), json([1, 2]), json({}), json({}), json({})], session.signer),
    "signed-header-no-type": () => resign([DELIMITER, Buffer.alloc(0), json({ msg_id: "x" }), json({}), json({}), json({})], session.signer),
    "signed-content-string": () => resign([DELIMITER, Buffer.alloc(0), json({ msg_id: `m${random()}`, msg_type: "kernel_info_request" }), json({}), json({}), json("content")], session.signer),
  };
  // Correctly signed, odd content: the kernel answers or ignores them, and stays up.
  const accepted = {
    "signed-odd-request": () => frames(session, ...random.pick(ODD_REQUESTS)),
    "signed-oversized": () => frames(session, "kernel_info_request", { padding: "p".repeat(random.int(1, 2) << 20) }),
  };
  return { dropped: kinds, accepted };
}

/** Frames of an execute_request running `code`, spoiled in one of the ways that must stop it. */
function spoiledExecute(random, session, code) {
  const foreign = new Session(new Signer("a-different-key"));
  const good = frames(session, "execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  const ways = {
    unsigned: () => [good[0], Buffer.alloc(0), ...good.slice(2)],
    "random-signature": () => [good[0], Buffer.from("0".repeat(64)), ...good.slice(2)],
    "foreign-key": () => frames(foreign, "execute_request", { code, silent: false }),
    "truncated-signature": () => [good[0], good[1].subarray(0, 63), ...good.slice(2)],
    "uppercase-signature": () => [good[0], Buffer.from(good[1].toString().toUpperCase()), ...good.slice(2)],
    "tampered-code": () => {
      const harmless = frames(session, "execute_request", { code: "1 + 1", silent: false });
      return [harmless[0], harmless[1], harmless[2], harmless[3], harmless[4], json({ code, silent: false })];
    },
  };
  const way = random.pick(Object.keys(ways));
  return { way, frames: ways[way]() };
}

module.exports = { makeCases, spoiledExecute, frames };
