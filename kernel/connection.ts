/**
 * The Jupyter connection file: where the kernel's five sockets live and the key that signs
 * every message. The kernel reads one (Jupyter writes it); our own client writes one when it
 * starts a kernel itself.
 */

import * as fs from "fs";
import * as net from "net";
import { randomBytes } from "crypto";

export type Channel = "shell" | "control" | "iopub" | "stdin" | "hb";
export const CHANNELS: readonly Channel[] = ["shell", "control", "iopub", "stdin", "hb"];

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  /** HMAC key; an empty key means messages are not signed (Jupyter's convention). */
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

/** The only scheme Jupyter uses in practice; anything else is refused at start-up. */
export const SIGNATURE_SCHEME = "hmac-sha256";

/** Read and check a connection file, with an error that says which field is wrong. */
export function readConnectionFile(file: string): ConnectionInfo {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read the connection file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`the connection file ${file} is not JSON: ${(err as Error).message}`);
  }
  return checkConnectionInfo(raw, file);
}

export function checkConnectionInfo(raw: unknown, source = "connection info"): ConnectionInfo {
  if (typeof raw !== "object" || raw === null) throw new Error(`${source}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const transport = r.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "ipc") {
    throw new Error(`${source}: transport must be "tcp" or "ipc", not ${JSON.stringify(transport)}`);
  }
  const ip = r.ip ?? "127.0.0.1";
  if (typeof ip !== "string" || ip === "") throw new Error(`${source}: ip must be a non-empty string`);
  const port = (name: string): number => {
    const value = r[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > 65535) {
      throw new Error(`${source}: ${name} must be a port number, not ${JSON.stringify(value)}`);
    }
    return value;
  };
  const key = r.key ?? "";
  if (typeof key !== "string") throw new Error(`${source}: key must be a string`);
  const scheme = r.signature_scheme ?? SIGNATURE_SCHEME;
  if (scheme !== SIGNATURE_SCHEME) {
    throw new Error(`${source}: signature_scheme ${JSON.stringify(scheme)} is not supported (only ${SIGNATURE_SCHEME})`);
  }
  return {
    transport,
    ip,
    shell_port: port("shell_port"),
    control_port: port("control_port"),
    iopub_port: port("iopub_port"),
    stdin_port: port("stdin_port"),
    hb_port: port("hb_port"),
    key,
    signature_scheme: scheme,
    ...(typeof r.kernel_name === "string" ? { kernel_name: r.kernel_name } : {}),
  };
}

/** The zeromq endpoint of one channel, in the form jupyter_client uses. */
export function endpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

/**
 * Fresh connection info on the loopback interface: five ports the OS says are free right now
 * and a random key. Ports are found by binding them all at once, so they are distinct.
 */
export async function newConnectionInfo(ip = "127.0.0.1"): Promise<ConnectionInfo> {
  const servers = CHANNELS.map(() => net.createServer());
  try {
    const ports = await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, ip, () => resolve((server.address() as net.AddressInfo).port));
          }),
      ),
    );
    const [shell, control, iopub, stdin, hb] = ports;
    return {
      transport: "tcp",
      ip,
      shell_port: shell,
      control_port: control,
      iopub_port: iopub,
      stdin_port: stdin,
      hb_port: hb,
      key: randomBytes(32).toString("hex"),
      signature_scheme: SIGNATURE_SCHEME,
      kernel_name: "nbpool",
    };
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.listening ? s.close(resolve) : resolve(undefined)))));
  }
}

/** Write a connection file readable only by its owner: it holds the key. */
export function writeConnectionFile(file: string, info: ConnectionInfo): void {
  fs.writeFileSync(file, JSON.stringify(info, null, 1), { mode: 0o600 });
}
