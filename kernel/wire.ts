/**
 * Jupyter messages on the wire (messaging spec 5.3): the multipart frame layout, HMAC-SHA256
 * signing and verification, and headers. Used by the kernel and by our own client alike.
 *
 *   [routing ids...] "<IDS|MSG>" signature header parent_header metadata content [buffers...]
 */

import { createHmac, randomUUID, timingSafeEqual } from "crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = Buffer.from("<IDS|MSG>");

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export type JsonObject = Record<string, unknown>;

export interface Message<C extends JsonObject = JsonObject> {
  /** zeromq routing prefix (ROUTER sockets): who to send the reply to. */
  identities: Buffer[];
  header: Header;
  /** The request this message answers or was produced for; `{}` when none. */
  parent_header: Header | Record<string, never>;
  metadata: JsonObject;
  content: C;
  buffers: Buffer[];
}

/** A message that could not be accepted; `reason` is safe to log (it holds no key material). */
export class WireError extends Error {
  override readonly name = "WireError";
}

/**
 * Signs and verifies with one key. An empty key disables signing, as in jupyter_client: the
 * signature frame is then empty and not checked.
 */
export class Signer {
  private readonly key: Buffer;
  constructor(key: string) {
    this.key = Buffer.from(key, "utf8");
  }

  get enabled(): boolean {
    return this.key.length > 0;
  }

  sign(parts: readonly Buffer[]): string {
    if (!this.enabled) return "";
    const hmac = createHmac("sha256", this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest("hex");
  }

  /** Constant-time comparison, so that the time taken reveals nothing about the right signature. */
  verify(signature: Buffer, parts: readonly Buffer[]): boolean {
    if (!this.enabled) return true;
    const expected = Buffer.from(this.sign(parts), "ascii");
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
}

/**
 * Remembers recent signatures so that a captured message cannot be replayed (ipykernel does
 * the same). Bounded: the oldest are forgotten first.
 */
export class ReplayGuard {
  private readonly seen = new Set<string>();
  constructor(private readonly capacity = 65536) {}

  /** False when this signature was already seen. */
  admit(signature: string): boolean {
    if (signature === "") return true;
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}

/** Split and verify a multipart message. Throws WireError when it is malformed or unsigned. */
export function decode(frames: readonly Buffer[], signer: Signer, replay?: ReplayGuard): Message {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new WireError("no <IDS|MSG> delimiter");
  if (frames.length < at + 6) throw new WireError(`too few frames (${frames.length - at - 1} after the delimiter, need 5)`);
  const signature = frames[at + 1];
  const parts = frames.slice(at + 2, at + 6);
  if (signer.enabled && signature.length === 0) throw new WireError("missing signature");
  if (!signer.verify(signature, parts)) throw new WireError("bad signature");
  if (replay && !replay.admit(signature.toString("ascii"))) throw new WireError("replayed signature");
  const [header, parent, metadata, content] = parts.map((p, i) => parseJson(p, FRAME_NAMES[i]));
  if (typeof header.msg_type !== "string" || typeof header.msg_id !== "string") {
    throw new WireError("header without msg_type or msg_id");
  }
  return {
    identities: frames.slice(0, at),
    header: header as unknown as Header,
    parent_header: parent as Message["parent_header"],
    metadata,
    content,
    buffers: frames.slice(at + 6),
  };
}

const FRAME_NAMES = ["header", "parent_header", "metadata", "content"];

function parseJson(frame: Buffer, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString("utf8"));
  } catch {
    throw new WireError(`${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireError(`${what} is not a JSON object`);
  }
  return value as JsonObject;
}

/** Lay a message out as frames and sign it. */
export function encode(msg: Message, signer: Signer): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p), "utf8"));
  return [...msg.identities, DELIMITER, Buffer.from(signer.sign(parts), "ascii"), ...parts, ...msg.buffers];
}

/** One side of a conversation: a session id and user name stamped on every header. */
export class Session {
  readonly id = randomUUID();
  constructor(
    readonly signer: Signer,
    readonly username = "nbpool",
  ) {}

  header(msgType: string): Header {
    return {
      msg_id: randomUUID(),
      session: this.id,
      username: this.username,
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    };
  }

  /** A new message; with `parent`, one produced for that request (it carries the parent's header). */
  message<C extends JsonObject>(msgType: string, content: C, parent?: Message, metadata: JsonObject = {}): Message<C> {
    return {
      identities: [],
      header: this.header(msgType),
      parent_header: parent ? parent.header : {},
      metadata,
      content,
      buffers: [],
    };
  }

  /** The reply to `request`, routed back to whoever sent it. */
  reply<C extends JsonObject>(request: Message, msgType: string, content: C, metadata: JsonObject = {}): Message<C> {
    return { ...this.message(msgType, content, request, metadata), identities: request.identities };
  }

  encode(msg: Message): Buffer[] {
    return encode(msg, this.signer);
  }
}
