/**
 * The private directory where worker modules are written. Workers `require` code from it,
 * so nobody else may be able to write there: it is created 0700, and a path that is a
 * symlink, belongs to someone else or is writable by group or others is refused.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { CaptureError } from "../errors";

let chosen: { settings: string; dir: string } | undefined;

/** The directory for generated modules (`<cache>/modules`), created and checked once per setting. */
export function moduleDir(): string {
  const env = process.env.NBPOOL_CACHE_DIR;
  const settings = [env, process.env.XDG_CACHE_HOME, os.homedir(), os.tmpdir()].join("\0");
  if (chosen && chosen.settings === settings) return chosen.dir;
  const dir = path.join(cacheRoot(env), "modules");
  ensurePrivateDir(dir);
  chosen = { settings, dir };
  return dir;
}

function cacheRoot(env: string | undefined): string {
  if (env) {
    ensurePrivateDir(path.resolve(env));
    return path.resolve(env);
  }
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  const preferred = path.join(base, "nbpool");
  try {
    fs.mkdirSync(base, { recursive: true });
    ensurePrivateDir(preferred);
    return preferred;
  } catch (error) {
    // A home that cannot be written (read-only, another user's) is not an attack: use /tmp.
    // A directory that is there but unsafe is: say so.
    if (error instanceof CaptureError) throw error;
  }
  const fallback = path.join(os.tmpdir(), `nbpool-${os.userInfo().uid}`);
  ensurePrivateDir(fallback);
  return fallback;
}

/** Creates `dir` (0700) if missing; refuses it unless it is a real directory, ours, private. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        return ensurePrivateDir(dir);
      }
      throw error;
    }
  }
  const stat = fs.lstatSync(dir);
  const fix = "set NBPOOL_CACHE_DIR to a directory of your own, or remove it so nbpool can create it";
  if (stat.isSymbolicLink()) throw new CaptureError(`the nbpool cache directory ${dir} is a symbolic link, which nbpool refuses (workers load code from it); ${fix}`);
  if (!stat.isDirectory()) throw new CaptureError(`the nbpool cache directory ${dir} is not a directory; ${fix}`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new CaptureError(`the nbpool cache directory ${dir} belongs to user ${stat.uid}, not to you (${uid}); workers load code from it, so it must be yours: ${fix}`);
  }
  if ((stat.mode & 0o022) !== 0) {
    const mode = (stat.mode & 0o777).toString(8);
    throw new CaptureError(`the nbpool cache directory ${dir} is writable by others (mode ${mode}); workers load code from it. Run \`chmod 700 ${dir}\` or ${fix}`);
  }
}

/**
 * Writes `text` as `<dir>/<name>` unless it is there already (names are content hashes).
 * Temp file + rename: two kernels writing the same module at once both succeed.
 */
export function writeOnce(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  if (fs.existsSync(file)) return file;
  const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  fs.writeFileSync(temp, text, { mode: 0o600, flag: "wx" });
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  return file;
}
