import type { Duplex } from 'node:stream';
import { MAX_STARTUP_LENGTH, ProtocolViolation } from './wire.js';

/** PostgreSQL's cap on a message during authentication (PG_MAX_AUTH_TOKEN_LENGTH is 65535). */
const MAX_AUTH_MESSAGE = 65_535;

/**
 * Reads whole protocol frames from a stream during the startup phase, before the proxy starts
 * piping. Between reads the stream is paused, and whatever arrived beyond the last frame stays
 * buffered (`release` hands it back), so nothing is lost when the caller later pipes the
 * stream onward, upgrades it to TLS, or hands it to another reader.
 */
export class FrameReader {
  private buffered: Buffer;

  constructor(
    private readonly stream: Duplex,
    initial: Buffer = Buffer.alloc(0),
    /** A peer that stops talking mid-handshake must not hold a socket forever. */
    private readonly timeoutMs = 30_000,
  ) {
    this.buffered = initial;
  }

  /** Bytes received and not yet read as a frame. */
  get pending(): number {
    return this.buffered.length;
  }

  private wait(bytes: number, what: string): Promise<void> {
    if (this.buffered.length >= bytes) return Promise.resolve();
    const { stream } = this;
    if (stream.destroyed || stream.readableEnded) return Promise.reject(new ProtocolViolation(`connection closed before ${what}`));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        stream.off('data', onData);
        stream.off('end', onEnd);
        stream.off('close', onEnd);
        stream.off('error', onError);
        stream.pause();
      };
      const onData = (chunk: Buffer) => {
        this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : Buffer.from(chunk);
        if (this.buffered.length < bytes) return;
        cleanup();
        resolve();
      };
      const onEnd = () => {
        cleanup();
        reject(new ProtocolViolation(`connection closed before ${what}`));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ProtocolViolation(`timeout waiting for ${what}`));
      }, this.timeoutMs);
      stream.on('data', onData);
      stream.once('end', onEnd);
      stream.once('close', onEnd);
      stream.once('error', onError);
      stream.resume();
    });
  }

  private take(length: number): Buffer {
    const frame = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    return frame;
  }

  /** The first byte, left unread (tells direct TLS from a startup packet). */
  async peek(): Promise<number> {
    await this.wait(1, 'the startup packet');
    return this.buffered[0];
  }

  /** An untyped startup-phase packet (StartupMessage, SSLRequest, CancelRequest…), length word included. */
  async packet(): Promise<Buffer> {
    await this.wait(4, 'the startup packet');
    const length = this.buffered.readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_LENGTH) throw new ProtocolViolation('invalid length of startup packet');
    await this.wait(length, 'the startup packet');
    return this.take(length);
  }

  /** A typed message: its type byte, its body, and the whole frame as received. */
  async message(maxLength = MAX_AUTH_MESSAGE): Promise<{ type: string; body: Buffer; frame: Buffer }> {
    await this.wait(5, 'a message');
    const length = this.buffered.readInt32BE(1);
    if (length < 4 || length > maxLength) throw new ProtocolViolation('invalid message length');
    await this.wait(1 + length, 'a message');
    const frame = this.take(1 + length);
    return { type: String.fromCharCode(frame[0]), body: frame.subarray(5), frame };
  }

  /** Stops reading: what was received beyond the last frame, for whoever reads the stream next. */
  release(): Buffer {
    return this.take(this.buffered.length);
  }
}
