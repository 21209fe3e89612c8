import { string, time } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const ImageBuild = defineKind({
  name: 'ImageBuild',
  domain: 'delivery',
  owners: 'delivery',
  description: 'A new build of a container image, reported by CI (what is delivered where comes with the delivery controller).',
  shape: 'plain',
  fields: {
    Repository: string({ required: true, description: 'e.g. ghcr.io/acme/shop' }),
    Tag: string({ required: true }),
    Digest: string({ description: 'sha256:… of the image manifest.' }),
    SourceCommit: string(),
    CIRunURL: string({ query: false }),
    BuiltAt: time(),
  },
});
