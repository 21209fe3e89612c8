import type { ApiClient } from '../client/api-client.ts';
import type { Kind } from '../model/kind.ts';

export interface EventInput {
  /** e.g. FailedCreate, SuccessfulUpdate */
  reason: string;
  note: string;
  type?: 'Normal' | 'Warning';
}

/**
 * Records controller Events on objects the original's way (Event + AttachedObjectReference
 * `v0.<Kind>` → `v0.Event`), so its tools show them. A repeat of the same reason, type and note
 * on the same object increments Count instead of adding an Event; the API does it atomically.
 */
export class EventRecorder {
  readonly #client: ApiClient;
  readonly #reportingController: string;

  constructor(client: ApiClient, reportingController: string) {
    this.#client = client;
    this.#reportingController = reportingController;
  }

  async record(kind: Kind, objectId: number, input: EventInput, client: ApiClient = this.#client): Promise<void> {
    await client.recordEvent({
      kind: kind.name,
      objectId,
      reason: input.reason,
      type: input.type ?? 'Normal',
      note: input.note,
      reportingController: this.#reportingController,
    });
  }
}
