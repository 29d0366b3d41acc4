// The WAL PostgreSQL writes over a window: its insert position read before and after, on a
// connection of its own, so the load's connections and statements stay as they are. The position
// is the whole server's: nothing else should write to it during a run.
import pg from 'pg';

/** `X/Y` (two hexadecimal halves) as a byte position. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(lsn);
  if (!match) throw new Error(`not a WAL position: ${lsn}`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

export class WalMeter {
  private constructor(private readonly client: pg.Client) {}

  static async open(databaseUrl: string): Promise<WalMeter> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return new WalMeter(client);
  }

  async position(): Promise<bigint> {
    const result = await this.client.query<{ lsn: string }>(
      'select pg_current_wal_insert_lsn()::text as lsn',
    );
    return parseLsn(result.rows[0]!.lsn);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** WAL bytes per operation between two positions, or null without operations. */
export function walBytesPer(from: bigint, to: bigint, operations: number): number | null {
  return operations > 0 ? Math.round(Number(to - from) / operations) : null;
}
