// One agent's SSE stream as the realtime hub sees it: a ConnectionSink that writes the relay's
// frames (see frames.ts), marks the messages it writes delivered, honours the hub's buffer bound
// (a slow agent is closed and resumes with Last-Event-ID) and ends itself after the events that
// change what the agent's token means (pairing_complete on a session stream, pairing_expired).
import type { ServerResponse } from 'node:http';
import type { CloseCodeName } from '@switchboard/protocol';
import type { Logger } from '../../observability/index.js';
import type { ConnectionSink, OutgoingEvent } from '../../realtime/index.js';
import type { DeliveredMarker } from './delivered-marker.js';
import { prepareEvent, sseFrame, type Revocation } from './frames.js';

/** A message frame written from the database rather than the hub. */
export interface StoredMessageFrame {
  readonly messageId: string;
  readonly frame: string;
}

export interface AgentStreamOptions {
  readonly raw: ServerResponse;
  readonly maxBufferBytes: number;
  readonly marker: DeliveredMarker;
  readonly log: Logger;
  /** What the stream authenticated with: an `access_revoked` event names the one it ends. */
  readonly credential: 'relay_token' | 'session_token';
  /** Event types after which the stream ends (the plugin reconnects at once). */
  readonly endAfter: ReadonlySet<string>;
  /** Message ids a resume must not send again (acked or expired meanwhile). */
  readonly skipMessageIds?: ReadonlySet<string>;
  /**
   * The messages of a gap history no longer covers (after `from`, up to `latest`), read from
   * the database when the hub reports `resync_required`.
   */
  readonly fillGap?: (from: number, latest: number) => Promise<StoredMessageFrame[]>;
  /** Called once when the stream ends, however it ends. */
  readonly onEnd: () => void;
}

export class AgentStream implements ConnectionSink {
  readonly transport = 'sse' as const;
  readonly invisible = true;
  private ended = false;
  /** Frames written while a gap is being filled wait here, so order is kept. */
  private held: string[] | undefined;
  private heldBytes = 0;
  private endWhenReleased = false;
  private gapFill: Promise<void> = Promise.resolve();
  private gapsPending = 0;
  private finished = false;
  private readonly openedAt = Date.now();
  /** A frame written once the replay up to `after` is (see `announceAfter`). */
  private announcement: { readonly frame: string; readonly after: number } | undefined;

  constructor(private readonly options: AgentStreamOptions) {
    options.raw.once('close', () => this.finish());
  }

  get isEnded(): boolean {
    return this.ended;
  }

  sendEvent(event: OutgoingEvent): boolean {
    if (this.ended) return true;
    if (this.announcement && !(event.seq !== undefined && event.seq <= this.announcement.after)) {
      this.settleAnnouncement();
    }
    const prepared = prepareEvent(event);
    if (prepared.revocation) return this.revoke(prepared.revocation);
    if (prepared.messageId && this.options.skipMessageIds?.has(prepared.messageId)) return true;
    if (!this.write(prepared.frame)) return false;
    if (prepared.messageId) this.options.marker.mark(prepared.messageId);
    if (this.options.endAfter.has(prepared.type)) this.endSoon();
    return true;
  }

  sendFrame(frame: Record<string, unknown>): boolean {
    if (this.ended) return true;
    if (frame.op === 'resync_required') {
      const { from, latest } = frame;
      if (typeof from === 'number' && typeof latest === 'number') this.fill(from, latest);
      return true;
    }
    const code =
      typeof frame.code === 'string'
        ? frame.code
        : typeof frame.op === 'string'
          ? frame.op
          : 'error';
    const message = typeof frame.message === 'string' ? frame.message : code;
    return this.write(sseFrame('error', JSON.stringify({ code, message })));
  }

  /** Writes a message read from the database; false when the agent is too slow. */
  writeStored(message: StoredMessageFrame): boolean {
    if (this.ended) return false;
    if (!this.write(message.frame)) return false;
    this.options.marker.mark(message.messageId);
    return true;
  }

  /**
   * An event without an id (`connected`) that follows the replay: written before the first
   * event after seq `after`, or by `settleAnnouncement` once the stream is live.
   */
  announceAfter(after: number, type: string, data: Record<string, unknown>): void {
    this.announcement = { frame: sseFrame(type, JSON.stringify(data)), after };
  }

  settleAnnouncement(): void {
    const announcement = this.announcement;
    this.announcement = undefined;
    if (announcement && !this.ended) this.write(announcement.frame);
  }

  /** A heartbeat comment, unless the agent is behind anyway. */
  ping(frame: string): void {
    if (this.ended || this.bufferedBytes() > this.options.maxBufferBytes) return;
    this.options.raw.write(frame);
  }

  bufferedBytes(): number {
    return this.options.raw.writableLength + this.heldBytes;
  }

  close(code: CloseCodeName, message?: string): void {
    if (this.ended) return;
    if (code === 'internal_error') {
      // The plugin shows an `error` event's message; a clean end makes it reconnect at once.
      this.options.raw.write(
        sseFrame('error', JSON.stringify({ code, message: message ?? 'stream failed' })),
      );
    }
    this.ended = true;
    this.options.raw.end();
    this.finish();
  }

  private write(frame: string): boolean {
    if (this.bufferedBytes() > this.options.maxBufferBytes) return false;
    if (this.held) {
      this.held.push(frame);
      this.heldBytes += frame.length;
      return true;
    }
    this.options.raw.write(frame);
    return true;
  }

  /**
   * Ends a stream opened before the revocation with the credential it names, with an `error`
   * event saying why (the plugin reconnects, and the old token is refused); other streams, and
   * streams resuming past it, skip it.
   */
  private revoke(revocation: Revocation): boolean {
    const applies =
      this.openedAt <= revocation.at &&
      (revocation.credential === 'any' || this.options.credential === revocation.credential);
    if (!applies) return true;
    this.write(
      sseFrame(
        'error',
        JSON.stringify({
          code: 'access_revoked',
          message: `This stream's access was revoked (${revocation.reason}); reconnect with a valid token.`,
        }),
      ),
    );
    this.endSoon();
    return true;
  }

  /** Ends after the hub's current delivery loop, which must not see the connection vanish. */
  private endSoon(): void {
    if (this.held) {
      this.endWhenReleased = true;
      return;
    }
    queueMicrotask(() => this.close('going_away_reconnect'));
  }

  private fill(from: number, latest: number): void {
    const { fillGap, log } = this.options;
    if (!fillGap || latest <= from) return;
    this.held ??= [];
    this.gapsPending += 1;
    this.gapFill = this.gapFill
      .then(async () => {
        const messages = await fillGap(from, latest);
        if (this.ended) return;
        // Written ahead of the frames held meanwhile: they all come after `latest`.
        for (const message of messages) {
          this.options.raw.write(message.frame);
          this.options.marker.mark(message.messageId);
        }
      })
      .catch((err: unknown) => {
        log.warn({ err }, 'could not read the messages a resync skipped');
        this.close('internal_error', 'could not read missed messages; reconnect to resume');
      })
      .finally(() => {
        this.gapsPending -= 1;
        if (this.gapsPending === 0) this.release();
      });
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    if (this.ended) return;
    for (const frame of held) this.options.raw.write(frame);
    if (this.endWhenReleased) this.close('going_away_reconnect');
  }

  private finish(): void {
    this.ended = true;
    if (this.finished) return;
    this.finished = true;
    this.options.onEnd();
  }
}
