import type { Database } from './database.ts';

export interface OutboxMessage {
  seq: number;
  subject: string;
  messageId: string;
  payload: string;
}

/** Notifications committed with their changes, waiting to be published. */
export class Outbox {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Hands up to `limit` waiting messages, oldest first, to `publish`, and removes the ones it
   * reports as published. Rows are locked for the duration, so relays in other API replicas skip
   * them instead of publishing twice. Returns how many were published.
   */
  async drain(limit: number, publish: (messages: OutboxMessage[]) => Promise<OutboxMessage[]>): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const rows = await tx.query<{ seq: number; subject: string; message_id: string; payload: string }>(
        'SELECT seq, subject, message_id, payload FROM threeport_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
        'outbox_claim',
      );
      if (rows.length === 0) return 0;
      const published = await publish(
        rows.map((row) => ({ seq: Number(row.seq), subject: row.subject, messageId: row.message_id, payload: row.payload })),
      );
      if (published.length > 0) {
        await tx.query('DELETE FROM threeport_outbox WHERE seq = ANY($1)', [published.map((m) => m.seq)], 'outbox_delete');
      }
      return published.length;
    });
  }

  async pending(): Promise<number> {
    const [row] = await this.#db.query<{ n: number }>('SELECT count(*) AS n FROM threeport_outbox');
    return Number(row?.n ?? 0);
  }
}
