import { integer, ref, string, time } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const Event = defineKind({
  name: 'Event',
  domain: 'events',
  owners: 'report',
  description: 'Something a controller did or failed to do to an object (Kubernetes-style event).',
  shape: 'plain',
  fields: {
    AttachedObjectReferenceID: ref('AttachedObjectReference'),
    Reason: string({ required: true }),
    Note: string(),
    Count: integer({ required: true }),
    EventTime: time({ required: true }),
    LastObservedTime: time({ required: true }),
    Type: string({ required: true, description: 'Normal or Warning.' }),
    ReportingController: string({ required: true }),
  },
});

export const AttachedObjectReference = defineKind({
  name: 'AttachedObjectReference',
  domain: 'events',
  owners: 'report',
  description: 'An edge "object X has object Y attached", used for cascading deletes and events.',
  shape: 'plain',
  uniqueTogether: [['ObjectType', 'ObjectID', 'AttachedObjectType', 'AttachedObjectID']],
  fields: {
    ObjectType: string({ required: true, description: 'e.g. "v0.WorkloadInstance".' }),
    ObjectID: integer({ required: true }),
    AttachedObjectType: string({ required: true }),
    // Every removal of an object removes the references to it by this column.
    AttachedObjectID: integer({ required: true, indexed: true }),
  },
});
