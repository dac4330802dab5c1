/**
 * The kernel's five zeromq sockets: bound from the connection file, read in a loop each,
 * written in order. Every incoming message is verified here; one that fails (bad or missing
 * signature, replay, malformed) is dropped and logged locally, and nothing about it is sent
 * anywhere.
 */

import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "./connection";
import { decode, ReplayGuard, type Message, type Session } from "./wire";

export type RequestChannel = "shell" | "control" | "stdin";
export type SendChannel = RequestChannel | "iopub";

/**
 * How long close() lets queued messages (the last replies, the final idle status) reach
 * their peers before the sockets go. Peers that are gone get nothing and cost nothing.
 */
const LINGER_MS = 500;

/** Largest frame accepted from a client: a cell's code and its metadata, generously. */
const MAX_MESSAGE_BYTES = 64 * 2 ** 20;

export class KernelSockets {
  private readonly sockets: Record<SendChannel, zmq.Router | zmq.Publisher>;
  private readonly hb: zmq.Reply;
  /** Sends are chained per socket: zeromq.js allows one pending send at a time, and order matters. */
  private readonly outbox: Record<SendChannel, Promise<void>>;
  private readonly replay = new ReplayGuard();
  /** Messages taken in per channel, so settle() can tell when a socket has gone quiet. */
  private readonly received: Record<RequestChannel, number> = { shell: 0, control: 0, stdin: 0 };
  private closing = false;

  private constructor(
    private readonly session: Session,
    private readonly log: (text: string) => void,
  ) {
    const options = { linger: LINGER_MS };
    // Anyone who can reach the ports can send; no unsigned peer may make us buffer gigabytes.
    const incoming = { ...options, maxMessageSize: MAX_MESSAGE_BYTES };
    this.sockets = {
      shell: new zmq.Router(incoming),
      control: new zmq.Router(incoming),
      stdin: new zmq.Router(incoming),
      iopub: new zmq.Publisher(options),
    };
    this.hb = new zmq.Reply({ linger: 0, maxMessageSize: 1024 });
    this.outbox = { shell: Promise.resolve(), control: Promise.resolve(), stdin: Promise.resolve(), iopub: Promise.resolve() };
  }

  /** Bind every channel and start reading; `onMessage` gets each verified request. */
  static async bind(
    info: ConnectionInfo,
    session: Session,
    onMessage: (channel: RequestChannel, msg: Message) => void,
    log: (text: string) => void,
  ): Promise<KernelSockets> {
    const self = new KernelSockets(session, log);
    try {
      await Promise.all([
        ...(Object.keys(self.sockets) as SendChannel[]).map((ch) => bindOrExplain(self.sockets[ch], endpoint(info, ch), ch)),
        bindOrExplain(self.hb, endpoint(info, "hb"), "hb"),
      ]);
    } catch (err) {
      self.closeNow();
      throw err;
    }
    for (const channel of ["shell", "control", "stdin"] as const) void self.readLoop(channel, onMessage);
    void self.heartbeatLoop();
    return self;
  }

  /** Queue a message on a channel. Never throws: a send that fails is logged. */
  send(channel: SendChannel, msg: Message): Promise<void> {
    if (this.closing) return Promise.resolve();
    const frames = this.session.encode(msg);
    const socket = this.sockets[channel];
    this.outbox[channel] = this.outbox[channel].then(
      () => socket.send(frames),
    ).catch((err: Error) => {
      if (!this.closing) this.log(`could not send ${msg.header.msg_type} on ${channel}: ${err.message}`);
    });
    return this.outbox[channel];
  }

  /**
   * Let the read loops take in what zeromq has already received on `channel`: yield to the
   * event loop until two turns pass with nothing new. Used after an error to learn which
   * requests were queued at that moment (a cell that blocked the loop left them in the
   * socket). Bounded, so a client that floods the socket cannot hold it forever.
   *
   * (Not `socket.readable`: reading ZMQ_EVENTS consumes the edge of zeromq's file
   * descriptor, and the pending receive would then not wake up.)
   */
  async settle(channel: RequestChannel): Promise<void> {
    let quietTurns = 0;
    for (let turn = 0; turn < 200 && quietTurns < 2 && !this.closing; turn++) {
      const before = this.received[channel];
      await new Promise((resolve) => setImmediate(resolve));
      quietTurns = this.received[channel] === before && turn >= 2 ? quietTurns + 1 : 0;
    }
  }

  /** Wait for queued sends, then close every socket (lingering briefly for the last messages). */
  async close(): Promise<void> {
    if (this.closing) return;
    await Promise.all(Object.values(this.outbox));
    this.closeNow();
  }

  private closeNow(): void {
    this.closing = true;
    for (const socket of [...Object.values(this.sockets), this.hb]) {
      if (!socket.closed) socket.close();
    }
  }

  private async readLoop(channel: RequestChannel, onMessage: (channel: RequestChannel, msg: Message) => void): Promise<void> {
    const socket = this.sockets[channel] as zmq.Router;
    try {
      for await (const frames of socket) {
        this.received[channel]++;
        let msg: Message;
        try {
          msg = decode(frames, this.session.signer, this.replay);
        } catch (err) {
          this.log(`dropped a message on ${channel}: ${(err as Error).message}`);
          continue;
        }
        try {
          onMessage(channel, msg);
        } catch (err) {
          this.log(`error handling ${msg.header.msg_type} on ${channel}: ${(err as Error).stack ?? err}`);
        }
      }
    } catch (err) {
      if (!this.closing) this.log(`reading ${channel} failed: ${(err as Error).message}`);
    }
  }

  /**
   * Echo heartbeats. This runs on the main thread, so a cell that blocks the event loop also
   * delays heartbeats; Jupyter's own liveness check is the process, not the heartbeat.
   */
  private async heartbeatLoop(): Promise<void> {
    try {
      for await (const frames of this.hb) await this.hb.send(frames);
    } catch (err) {
      if (!this.closing) this.log(`heartbeat failed: ${(err as Error).message}`);
    }
  }
}

async function bindOrExplain(socket: zmq.Socket & { bind(address: string): Promise<void> }, address: string, channel: string): Promise<void> {
  try {
    await socket.bind(address);
  } catch (err) {
    throw new Error(`cannot bind the ${channel} channel to ${address}: ${(err as Error).message}`);
  }
}
