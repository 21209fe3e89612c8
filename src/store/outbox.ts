import type { Database } from './database.ts';

export interface OutboxMessage {
  seq: number;
  subject: string;
  messageId: string;
  payload: string;
}

interface OutboxRow {
  seq: number;
  subject: string;
  message_id: string;
  payload: string;
}

const CLAIM = 'SELECT seq, subject, message_id, payload FROM threeport_outbox ORDER BY seq LIMIT $1';
const REMOVE = 'DELETE FROM threeport_outbox WHERE seq = ANY($1)';

const toMessage = (row: OutboxRow): OutboxMessage => ({ seq: Number(row.seq), subject: row.subject, messageId: row.message_id, payload: row.payload });
const seqs = (messages: OutboxMessage[]): number[] => messages.map((message) => message.seq);

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
    if (this.#db.engine === 'pglite') return this.#drainAlone(limit, publish);
    return this.#db.transaction(async (tx) => {
      const rows = await tx.query<OutboxRow>(`${CLAIM} FOR UPDATE SKIP LOCKED`, [limit], true);
      if (rows.length === 0) return 0;
      const published = await publish(rows.map(toMessage));
      if (published.length > 0) await tx.query(REMOVE, [seqs(published)], true);
      return published.length;
    });
  }

  /**
   * The embedded database belongs to one process, so its relay is alone: no claim transaction, two
   * statements instead of four on PGlite's single connection. A crash between publish and delete
   * republishes, which the bus's duplicate window drops.
   */
  async #drainAlone(limit: number, publish: (messages: OutboxMessage[]) => Promise<OutboxMessage[]>): Promise<number> {
    const rows = await this.#db.query<OutboxRow>(CLAIM, [limit]);
    if (rows.length === 0) return 0;
    const published = await publish(rows.map(toMessage));
    if (published.length > 0) await this.#db.query(REMOVE, [seqs(published)]);
    return published.length;
  }

  async pending(): Promise<number> {
    const [row] = await this.#db.query<{ n: number }>('SELECT count(*) AS n FROM threeport_outbox');
    return Number(row?.n ?? 0);
  }
}
