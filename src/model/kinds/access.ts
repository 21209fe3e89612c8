import { integer, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const Profile = defineKind({
  name: 'Profile',
  domain: 'access',
  description: 'A named standard configuration for definitions (reserved).',
  shape: 'plain',
  fields: { Name: string({ required: true }) },
});

export const Tier = defineKind({
  name: 'Tier',
  domain: 'access',
  description: 'A criticality level, e.g. dev 10, prod 100 (reserved for access control).',
  shape: 'plain',
  fields: {
    Name: string({ required: true }),
    Criticality: integer({ required: true }),
  },
});
