// Admission rules without sockets: CIDR lists (IPv4, IPv6, mapped), deny over allow, the
// handshake token bucket, and per-node, per-IP and per-user counts with release.
import { describe, expect, it } from 'vitest';
import { ConnectionLimits, canonicalIp, isRange, type ConnectionLimitOptions } from './limits.js';

const none: ConnectionLimitOptions = {
  maxConnections: 0,
  maxPerIp: 0,
  maxPerUser: 0,
  allow: [],
  deny: [],
  handshakesPerSecond: 0,
  handshakeBurst: 0,
};

const reasonOf = (limits: ConnectionLimits, ip: string) => {
  const admission = limits.admit(ip);
  return admission.ok ? 'ok' : admission.refusal.reason;
};

describe('ConnectionLimits', () => {
  it('validates addresses and CIDR ranges of both families', () => {
    for (const ok of ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', '::ffff:10.0.0.0/104']) {
      expect(isRange(ok), ok).toBe(true);
    }
    for (const bad of ['10.0.0.0/33', 'example.com', '2001:db8::/129', '']) {
      expect(isRange(bad), bad).toBe(false);
    }
    expect(canonicalIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(canonicalIp('10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(canonicalIp('::ffff:nope')).toBeUndefined();
    expect(canonicalIp('nope')).toBeUndefined();
  });

  it('admits only allowed ranges, IPv4 and IPv6, and deny wins over allow', () => {
    const limits = new ConnectionLimits(
      {
        ...none,
        allow: ['10.0.0.0/8', '2001:db8::/32'],
        deny: ['10.9.0.0/16', '2001:db8:bad::/48'],
      },
      () => 0,
    );
    expect(reasonOf(limits, '10.1.2.3')).toBe('ok');
    expect(reasonOf(limits, '::ffff:10.1.2.3')).toBe('ok');
    expect(reasonOf(limits, '2001:db8:1::5')).toBe('ok');
    expect(reasonOf(limits, '10.9.1.1')).toBe('denied');
    expect(reasonOf(limits, '2001:db8:bad::1')).toBe('denied');
    expect(reasonOf(limits, '192.168.0.1')).toBe('not_allowed');
    expect(reasonOf(limits, '2001:db9::1')).toBe('not_allowed');
    expect(reasonOf(limits, 'unknown')).toBe('not_allowed');
  });

  it('denies a listed address with an empty allow list', () => {
    const limits = new ConnectionLimits({ ...none, deny: ['203.0.113.9', '::1'] }, () => 0);
    expect(reasonOf(limits, '203.0.113.9')).toBe('denied');
    expect(reasonOf(limits, '::1')).toBe('denied');
    expect(reasonOf(limits, '203.0.113.10')).toBe('ok');
  });

  it('rate-limits handshakes per IP with a refilling bucket', () => {
    let now = 0;
    const limits = new ConnectionLimits(
      { ...none, handshakesPerSecond: 2, handshakeBurst: 4, now: () => now },
      () => 0,
    );
    const results = Array.from({ length: 5 }, () => reasonOf(limits, '10.0.0.1'));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'handshake_rate']);
    expect(reasonOf(limits, '10.0.0.2')).toBe('ok');
    now += 500; // one token back
    expect(reasonOf(limits, '10.0.0.1')).toBe('ok');
    expect(reasonOf(limits, '10.0.0.1')).toBe('handshake_rate');
  });

  it('counts open connections per node and per IP until released', () => {
    const limits = new ConnectionLimits({ ...none, maxConnections: 3, maxPerIp: 2 }, () => 0);
    const a1 = limits.admit('10.0.0.1');
    const a2 = limits.admit('::ffff:10.0.0.1');
    expect(reasonOf(limits, '10.0.0.1')).toBe('ip');
    const b1 = limits.admit('10.0.0.2');
    expect([a1.ok, a2.ok, b1.ok]).toEqual([true, true, true]);
    expect(reasonOf(limits, '10.0.0.3')).toBe('node');
    if (!a1.ok) throw new Error('unreachable');
    a1.release();
    a1.release(); // idempotent
    expect(limits.openCount()).toBe(2);
    const again = limits.admit('10.0.0.1');
    expect(again.ok).toBe(true);
  });

  it('refuses a user at the per-user limit', () => {
    const counts = new Map([['alice', 2]]);
    const limits = new ConnectionLimits({ ...none, maxPerUser: 2 }, (u) => counts.get(u) ?? 0);
    expect(limits.admitUser('alice')).toMatchObject({
      code: 'too_many_connections',
      reason: 'user',
    });
    expect(limits.admitUser('bob')).toBeUndefined();
  });
});
