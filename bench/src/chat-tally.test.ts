import { describe, expect, it } from 'vitest';
import { acknowledgedNumber, ChatTally, readChatMessage, sendFrame } from './chat-tally.js';

describe('chat message frames', () => {
  it('reads the send time and number back out of the message.created event', () => {
    const sent = JSON.parse(sendFrame('0195c0de-aaaa-7bbb-8ccc-123456789abc', 42, 1234.5678)) as {
      body: string;
      temp_id: string;
      conversation_id: string;
    };
    // As the server renders it: the message view, body and clientMsgId as sent.
    const event = Buffer.from(
      JSON.stringify({
        op: 'event',
        topic: `chat.channel.${sent.conversation_id}`,
        seq: 9,
        type: 'message.created',
        channelId: sent.conversation_id,
        conversation_id: sent.conversation_id,
        message: {
          id: '0195c0de-ffff-7bbb-8ccc-123456789abc',
          seq: 9,
          body: sent.body,
          clientMsgId: sent.temp_id,
          createdAt: '2026-12-02T10:00:00.000Z',
        },
      }),
    );
    expect(readChatMessage(event)).toEqual({ sentAt: 1234.5678, n: 42 });
  });

  it('is NaN for events the load generator did not send', () => {
    const joined = Buffer.from('{"op":"event","topic":"chat.user.u","type":"channel.joined"}');
    expect(readChatMessage(joined).sentAt).toBeNaN();
  });

  it('reads the acknowledged message from a send reply', () => {
    const reply = Buffer.from(
      '{"op":"send","id":42,"success":true,"message_id":"m","temp_id":"b42","seq":9}',
    );
    expect(acknowledgedNumber(reply)).toBe(42);
  });
});

describe('ChatTally', () => {
  it('counts lost deliveries of acknowledged messages until every slot has them', () => {
    const tally = new ChatTally(3);
    tally.committed(0);
    tally.delivered(0, 0);
    tally.delivered(0, 1);
    expect(tally.complete()).toBe(false);
    tally.delivered(0, 2);
    expect(tally.complete()).toBe(true);
    expect(tally.summary()).toMatchObject({ committed: 1, deliveries: 3, lost: 0 });
  });

  it('takes a delivery before its acknowledgement as well as after', () => {
    const tally = new ChatTally(2);
    tally.delivered(5, 0);
    tally.delivered(5, 1);
    tally.committed(5);
    expect(tally.complete()).toBe(true);
    tally.committed(6);
    tally.delivered(6, 1);
    expect(tally.summary()).toMatchObject({ committed: 2, lost: 1, duplicates: 0 });
  });

  it('counts duplicates, unknown numbers and deliveries nobody acknowledged', () => {
    const tally = new ChatTally(2);
    tally.committed(0);
    tally.delivered(0, 0);
    tally.delivered(0, 0);
    tally.delivered(0, 1);
    tally.delivered(Number.NaN, 0);
    tally.delivered(1, 7);
    tally.delivered(3000, 1);
    expect(tally.summary()).toEqual({
      committed: 1,
      deliveries: 6,
      lost: 0,
      duplicates: 1,
      unknown: 2,
      deliveredButNotAcknowledged: 1,
    });
  });
});
