// Connection admission for the WebSocket and SSE transports: IP allow/deny lists (CIDR, IPv4 and
// IPv6; deny wins), a handshake rate per IP (token bucket, per node), and connection counts per
// node, per IP and per user. Counts are taken at admission, before authentication, so sockets
// that never authenticate count too, and are released when the socket closes.
import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import type { ErrorCode } from '@switchboard/protocol';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Why a connection was refused; the status comes from the error catalogue. */
export interface Refusal {
  readonly code: Extract<ErrorCode, 'forbidden' | 'rate_limited' | 'too_many_connections'>;
  readonly reason: 'denied' | 'not_allowed' | 'handshake_rate' | 'node' | 'ip' | 'user';
  readonly message: string;
}

export type Admission =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly refusal: Refusal };

export interface ConnectionLimitOptions {
  /** Open connections on this node; 0 means no limit. */
  maxConnections: number;
  /** Open connections per client IP on this node; 0 means no limit. */
  maxPerIp: number;
  /** Open connections per user on this node; 0 means no limit. */
  maxPerUser: number;
  /** CIDRs or addresses; when not empty, only these may connect. */
  allow: readonly string[];
  /** CIDRs or addresses that may never connect; wins over `allow`. */
  deny: readonly string[];
  /** New connections per second per IP (the bucket holds `handshakeBurst`); 0 means no limit. */
  handshakesPerSecond: number;
  handshakeBurst: number;
  now?: () => number;
}

/** Parses one CIDR (`10.0.0.0/8`, `2001:db8::/32`) or single address; throws when invalid. */
export function parseRange(text: string): Range {
  const value = text.trim();
  if (value.includes('/')) {
    const [address, bits] = ipaddr.parseCIDR(value);
    return [normalize(address), address.kind() === 'ipv6' && isMapped(address) ? bits - 96 : bits];
  }
  const address = normalize(ipaddr.parse(value));
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** True when the text is a valid CIDR or address (config validation). */
export function isRange(text: string): boolean {
  try {
    parseRange(text);
    return true;
  } catch {
    return false;
  }
}

function isMapped(address: Address): boolean {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress();
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what dual-stack sockets report) becomes plain IPv4. */
function normalize(address: Address): Address {
  return isMapped(address) ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

const MAPPED_IPV4_PREFIX = '::ffff:';

/** The canonical form of a client address, or undefined when it is not an IP address. */
export function canonicalIp(text: string): string | undefined {
  // What sockets report, plain or IPv4-mapped dotted quads, is canonical as it stands
  // (`isIPv4` admits no leading zeros): the common case needs no parse.
  if (isIPv4(text)) return text;
  if (text.startsWith(MAPPED_IPV4_PREFIX)) {
    const v4 = text.slice(MAPPED_IPV4_PREFIX.length);
    if (isIPv4(v4)) return v4;
  }
  if (!ipaddr.isValid(text)) return undefined;
  return normalize(ipaddr.parse(text)).toString();
}

function matches(address: Address, ranges: readonly Range[]): boolean {
  for (const [base, bits] of ranges) {
    if (base.kind() === address.kind() && address.match(base, bits)) return true;
  }
  return false;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class ConnectionLimits {
  private readonly allow: Range[];
  private readonly deny: Range[];
  private readonly perIp = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private open = 0;
  private lastSweep = 0;

  constructor(
    private readonly options: ConnectionLimitOptions,
    /** How many connections a user has open on this node (the hub knows). */
    private readonly userConnections: (userId: string) => number,
  ) {
    this.allow = options.allow.map(parseRange);
    this.deny = options.deny.map(parseRange);
    this.now = options.now ?? Date.now;
  }

  /** Admits or refuses a new connection from `ip`; an admitted one must be released once. */
  admit(ip: string): Admission {
    const canonical = canonicalIp(ip);
    const refusal = this.check(ip, canonical);
    if (refusal) return { ok: false, refusal };
    const key = canonical ?? ip;
    this.open += 1;
    this.perIp.set(key, (this.perIp.get(key) ?? 0) + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.open -= 1;
        const left = (this.perIp.get(key) ?? 1) - 1;
        if (left > 0) this.perIp.set(key, left);
        else this.perIp.delete(key);
      },
    };
  }

  /** Refuses a user over their limit; call right before the hub registers the connection. */
  admitUser(userId: string): Refusal | undefined {
    const max = this.options.maxPerUser;
    if (max > 0 && this.userConnections(userId) >= max) {
      return {
        code: 'too_many_connections',
        reason: 'user',
        message: `this user already has ${max} connections on this server`,
      };
    }
    return undefined;
  }

  /** Connections admitted and not yet released. */
  openCount(): number {
    return this.open;
  }

  private check(ip: string, text: string | undefined): Refusal | undefined {
    const listed = this.deny.length > 0 || this.allow.length > 0;
    const address = listed && text !== undefined ? ipaddr.parse(text) : undefined;
    if (this.deny.length > 0 && address && matches(address, this.deny)) {
      return {
        code: 'forbidden',
        reason: 'denied',
        message: 'connections from this address are denied',
      };
    }
    if (this.allow.length > 0 && (!address || !matches(address, this.allow))) {
      return {
        code: 'forbidden',
        reason: 'not_allowed',
        message: 'connections from this address are not allowed',
      };
    }
    const key = text ?? ip;
    if (!this.takeHandshake(key)) {
      return {
        code: 'rate_limited',
        reason: 'handshake_rate',
        message: 'too many new connections from this address; retry shortly',
      };
    }
    const { maxConnections, maxPerIp } = this.options;
    if (maxConnections > 0 && this.open >= maxConnections) {
      return {
        code: 'too_many_connections',
        reason: 'node',
        message: 'this server is at its connection limit; retry or connect elsewhere',
      };
    }
    if (maxPerIp > 0 && (this.perIp.get(key) ?? 0) >= maxPerIp) {
      return {
        code: 'too_many_connections',
        reason: 'ip',
        message: `this address already has ${maxPerIp} connections on this server`,
      };
    }
    return undefined;
  }

  private takeHandshake(key: string): boolean {
    const rate = this.options.handshakesPerSecond;
    if (rate <= 0) return true;
    const burst = Math.max(1, this.options.handshakeBurst);
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (this.buckets.size > 10_000 && now - this.lastSweep > 1000) {
      this.lastSweep = now;
      this.sweep(now, rate, burst);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled completely: they hold no information any more. */
  private sweep(now: number, rate: number, burst: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * rate >= burst) this.buckets.delete(key);
    }
  }
}

/**
 * The client address of a WebSocket handshake. Behind a trusted proxy it is the first
 * X-Forwarded-For entry, as Fastify's `request.ip` has it for SSE and the REST API.
 */
export function handshakeClientIp(request: IncomingMessage, trustProxy: boolean): string {
  const peer = request.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return peer;
  const header = request.headers['x-forwarded-for'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
  return first && ipaddr.isValid(first) ? first : peer;
}

export interface LimitsConfig {
  REALTIME_MAX_CONNECTIONS: number;
  REALTIME_MAX_CONNECTIONS_PER_IP: number;
  REALTIME_MAX_CONNECTIONS_PER_USER: number;
  REALTIME_HANDSHAKES_PER_SECOND_PER_IP: number;
  REALTIME_IP_ALLOW?: readonly string[] | undefined;
  REALTIME_IP_DENY?: readonly string[] | undefined;
}

export function limitsFromConfig(
  config: LimitsConfig,
  userConnections: (userId: string) => number,
): ConnectionLimits {
  return new ConnectionLimits(
    {
      maxConnections: config.REALTIME_MAX_CONNECTIONS,
      maxPerIp: config.REALTIME_MAX_CONNECTIONS_PER_IP,
      maxPerUser: config.REALTIME_MAX_CONNECTIONS_PER_USER,
      allow: config.REALTIME_IP_ALLOW ?? [],
      deny: config.REALTIME_IP_DENY ?? [],
      handshakesPerSecond: config.REALTIME_HANDSHAKES_PER_SECOND_PER_IP,
      handshakeBurst: config.REALTIME_HANDSHAKES_PER_SECOND_PER_IP * 2,
    },
    userConnections,
  );
}
