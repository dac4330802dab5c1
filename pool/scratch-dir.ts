/**
 * The owner process's private scratch directory, shared with its workers: big buffers in
 * transit (big-buffers.ts) and the workers' beacons (beacon.ts). In /dev/shm (memory) where
 * there is one, else in the temp directory. Mode 0700; deleted when the owner exits; the
 * directories of owners that were killed before they could clean up are removed by the next.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Scratch {
  dir: string;
  /** True when it is memory (/dev/shm): worth using for big buffers. */
  inMemory: boolean;
}

let scratch: Scratch | null | undefined;

export function scratchDirectory(): Scratch | null {
  if (scratch !== undefined) return scratch;
  scratch = null;
  for (const [base, inMemory] of [["/dev/shm", true], [os.tmpdir(), false]] as const) {
    try {
      if (!fs.statSync(base).isDirectory()) continue;
      const uid = process.getuid?.() ?? 0;
      // Housekeeping, not on the path to the first result.
      setImmediate(() => removeDeadOwners(base, uid)).unref();
      const dir = path.join(base, `nbpool-${uid}-${process.pid}`);
      fs.mkdirSync(dir, { mode: 0o700 });
      process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
      scratch = { dir, inMemory };
      break;
    } catch {
      // Not usable; try the next place.
    }
  }
  return scratch;
}

function removeDeadOwners(base: string, uid: number): void {
  const prefix = `nbpool-${uid}-`;
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid)) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") fs.rmSync(path.join(base, name), { recursive: true, force: true });
    }
  }
}
