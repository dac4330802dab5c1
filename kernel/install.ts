/**
 * `nbpool install [--user | --sys-prefix | --prefix DIR] [--name NAME]`: write the Jupyter
 * kernelspec. Its argv holds absolute paths (this node, this package's bin/nbpool.js) so the
 * kernel starts however Jupyter was launched, with nothing on PATH.
 */

import { flags, readArgs } from "./cli-args";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const USAGE = `usage: nbpool install [--user | --sys-prefix | --prefix DIR] [--name NAME]

  --user        ~/.local/share/jupyter/kernels (or $JUPYTER_DATA_DIR / $XDG_DATA_HOME); the default
  --sys-prefix  the kernels directory of the Python environment on PATH (python3 -c 'import sys; print(sys.prefix)')
  --prefix DIR  DIR/share/jupyter/kernels
  --name NAME   the kernelspec name (default: nbpool)`;

export interface InstallOptions {
  /** Where: a Jupyter data dir's kernels folder is derived from it. */
  target: { kind: "user" } | { kind: "sys-prefix" } | { kind: "prefix"; dir: string };
  name?: string;
}

export async function main(args: string[]): Promise<number> {
  const options = readArgs("install", USAGE, args, parseArgs);
  if (typeof options === "number") return options;
  try {
    const dir = installKernelspec(options);
    process.stdout.write(`Installed the kernelspec ${options.name ?? "nbpool"} in ${dir}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`nbpool install: ${(err as Error).message}\n`);
    return 1;
  }
}

export function parseArgs(args: string[]): InstallOptions | "help" {
  let target: InstallOptions["target"] | undefined;
  let name: string | undefined;
  const setTarget = (t: InstallOptions["target"]) => {
    if (target) throw new Error("give only one of --user, --sys-prefix, --prefix");
    target = t;
  };
  for (const { arg, flag, value } of flags(args)) {
    if (flag === "-h" || flag === "--help") return "help";
    else if (flag === "--user") setTarget({ kind: "user" });
    else if (flag === "--sys-prefix") setTarget({ kind: "sys-prefix" });
    else if (flag === "--prefix") setTarget({ kind: "prefix", dir: path.resolve(value()) });
    else if (flag === "--name") name = value();
    else throw new Error(`unknown option ${arg}`);
  }
  if (name !== undefined && !/^[a-z0-9._-]+$/i.test(name)) throw new Error(`--name must be letters, digits, '.', '_' or '-', not ${JSON.stringify(name)}`);
  return { target: target ?? { kind: "user" }, ...(name ? { name } : {}) };
}

/** Write the kernelspec; returns its directory. */
export function installKernelspec(options: InstallOptions): string {
  const name = options.name ?? "nbpool";
  const dir = path.join(kernelsDir(options.target), name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kernel.json"), `${JSON.stringify(kernelJson(), null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "logo-svg.svg"), LOGO_SVG);
  return dir;
}

export function kernelJson(): Record<string, unknown> {
  const script = fs.realpathSync(path.join(__dirname, "..", "..", "bin", "nbpool.js"));
  return {
    argv: [process.execPath, script, "kernel", "-f", "{connection_file}"],
    display_name: "TypeScript (nbpool)",
    language: "typescript",
    // Jupyter sends SIGINT to the kernel's process group; the kernel also accepts
    // interrupt_request on control, for clients that use it.
    interrupt_mode: "signal",
    metadata: { debugger: false },
  };
}

export function kernelsDir(target: InstallOptions["target"]): string {
  switch (target.kind) {
    case "prefix":
      return path.join(target.dir, "share", "jupyter", "kernels");
    case "sys-prefix":
      return path.join(pythonSysPrefix(), "share", "jupyter", "kernels");
    case "user":
      return path.join(userDataDir(), "kernels");
  }
}

/** Jupyter's user data directory, resolved the way jupyter_core does on Linux and macOS. */
function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return path.resolve(process.env.JUPYTER_DATA_DIR);
  if (process.platform === "darwin") return path.join(os.homedir(), "Library", "Jupyter");
  if (process.platform === "win32") return path.join(process.env.APPDATA ?? os.homedir(), "jupyter");
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(xdg, "jupyter");
}

/** sys.prefix of the Python that runs Jupyter: the python3 on PATH, else the system one. */
function pythonSysPrefix(): string {
  const candidates = ["python3", "/usr/bin/python3", "python"];
  for (const python of candidates) {
    try {
      const out = execFileSync(python, ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 });
      const prefix = out.trim();
      if (prefix) return prefix;
    } catch {
      // try the next one
    }
  }
  throw new Error(`--sys-prefix needs a Python to ask for sys.prefix, and none of ${candidates.join(", ")} ran; use --user or --prefix DIR instead`);
}

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
  <rect width="64" height="64" rx="8" fill="#3178c6"/>
  <text x="32" y="42" font-family="Helvetica, Arial, sans-serif" font-size="26" font-weight="bold" fill="#fff" text-anchor="middle">TS</text>
  <g fill="#fff"><circle cx="14" cy="54" r="3"/><circle cx="26" cy="54" r="3"/><circle cx="38" cy="54" r="3"/><circle cx="50" cy="54" r="3"/></g>
</svg>
`;
