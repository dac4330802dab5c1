"use strict";
// Worker output (an out-of-memory report, megabytes a hostile task prints) would flood the
// report. A host registered for the length of a scenario takes it instead and counts it;
// the previous host (none, usually) is put back afterwards.
const { getHost, registerHost } = require("nbpool");

async function withQuietHost(body) {
  const previous = getHost();
  const output = { stdout: 0, stderr: 0, writes: 0, byContext: new Map() };
  let context;
  registerHost({
    currentContext: () => context,
    write(ctx, stream, text) {
      const bytes = Buffer.byteLength(text);
      output[stream] += bytes;
      output.writes++;
      const key = ctx ?? "none";
      const seen = output.byContext.get(key) ?? { stdout: 0, stderr: 0 };
      seen[stream] += bytes;
      output.byContext.set(key, seen);
    },
    display() {},
  });
  try {
    // `setContext(x)`: tasks submitted afterwards are tagged with x (as a kernel tags them with the cell).
    return await body(output, (ctx) => (context = ctx));
  } finally {
    registerHost(previous);
  }
}

module.exports = { withQuietHost };
