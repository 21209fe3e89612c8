/** Config files → object specs, in order, with the warnings the expansion produced. */
import { withArticle } from '../kind-names.ts';
import { expandDocument, type ExpandedDocument } from './expand.ts';
import { toObjectSpec, type ObjectSpec } from './object-spec.ts';
import { fileError, readDocuments } from './source.ts';

export interface LoadedConfig {
  documents: ExpandedDocument[];
  specs: ObjectSpec[];
  warnings: string[];
}

/** `only`: the one top-level key `tptctl create/delete <kind>` accepts, e.g. "WorkloadDefinition". */
export function loadConfigFiles(files: string[], options: { only?: string; buildSpecs?: boolean } = {}): LoadedConfig {
  const documents: ExpandedDocument[] = [];
  for (const file of files) {
    for (const source of readDocuments(file)) {
      if (options.only) {
        for (const key of Object.keys(source.value)) {
          if (key !== options.only) {
            throw fileError(source, [key], `this command takes ${withArticle(options.only)} config, but the file has ${key}; use the matching command or tptctl apply -f ${file}`);
          }
        }
      }
      documents.push(...expandDocument(source));
    }
  }
  const specs = options.buildSpecs === false ? [] : documents.flatMap((document) => document.steps.map(toObjectSpec));
  return { documents, specs, warnings: documents.flatMap((document) => document.warnings) };
}
