import type { ApiClient } from '../client/api-client.ts';
import { API_VERSION, type Kind } from '../model/kind.ts';

export interface EventInput {
  /** e.g. FailedCreate, SuccessfulUpdate */
  reason: string;
  note: string;
  type?: 'Normal' | 'Warning';
}

/**
 * Records controller Events on objects the original's way (Event + AttachedObjectReference
 * `v0.<Kind>` → `v0.Event`), so its tools show them. A repeat of the same reason, type and note
 * on the same object increments Count instead of adding an Event.
 */
export class EventRecorder {
  readonly #client: ApiClient;
  readonly #reportingController: string;

  constructor(client: ApiClient, reportingController: string) {
    this.#client = client;
    this.#reportingController = reportingController;
  }

  async record(kind: Kind, objectId: number, input: EventInput): Promise<void> {
    const type = input.type ?? 'Normal';
    const now = new Date().toISOString();
    const references = await this.#client.kind('AttachedObjectReference').listAll({
      objecttype: `${API_VERSION}.${kind.name}`,
      objectid: objectId,
      attachedobjecttype: `${API_VERSION}.Event`,
    });
    if (references.length > 0) {
      const attached = new Set(references.map((reference) => Number(reference.AttachedObjectID)));
      const candidates = await this.#client.kind('Event').listAll({ reason: input.reason, type, note: input.note, reportingcontroller: this.#reportingController });
      const existing = candidates.find((event) => attached.has(Number(event.ID)) && event.Note === input.note);
      if (existing) {
        await this.#client.kind('Event').update(Number(existing.ID), { Count: Number(existing.Count ?? 0) + 1, LastObservedTime: now });
        return;
      }
    }
    const event = await this.#client.kind('Event').create({
      Reason: input.reason,
      Note: input.note,
      Type: type,
      Count: 1,
      EventTime: now,
      LastObservedTime: now,
      ReportingController: this.#reportingController,
    });
    const reference = await this.#client.kind('AttachedObjectReference').create({
      ObjectType: `${API_VERSION}.${kind.name}`,
      ObjectID: objectId,
      AttachedObjectType: `${API_VERSION}.Event`,
      AttachedObjectID: event.ID,
    });
    await this.#client.kind('Event').update(Number(event.ID), { AttachedObjectReferenceID: reference.ID });
  }
}
