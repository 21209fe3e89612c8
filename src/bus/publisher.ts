/** The API side of the bus: where the outbox relay hands notifications. */
export interface Publisher {
  /**
   * Publishes one notification. Resolves only once the broker has durably accepted it; the same
   * `messageId` published twice within the broker's duplicate window is stored once.
   */
  publish(subject: string, payload: string, messageId: string): Promise<void>;
  close(): Promise<void>;
}
