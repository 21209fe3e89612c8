import type { ScalarField, ValueType } from '../model/fields.ts';
import type { ApiObject, Kind } from '../model/kind.ts';
import { storedScalars } from './schema.ts';

/** A stored scalar field: where it lives in SQL and on the wire. */
export interface Column {
  readonly field: string;
  /** Key on the wire (and in stored objects). */
  readonly key: string;
  readonly column: string;
  readonly valueType: ValueType;
  readonly spec: ScalarField;
}

/** Everything the store needs to move one kind between SQL rows and wire objects. */
export interface KindTable {
  readonly kind: Kind;
  readonly columns: readonly Column[];
  readonly byKey: ReadonlyMap<string, Column>;
  /** `id, version, created_at, updated_at, col…` */
  readonly selectList: string;
  toObject(row: Record<string, unknown>): ApiObject;
  /** SQL parameter for a wire value. */
  toParam(column: Column, value: unknown): unknown;
}

const toIso = (value: unknown): string | undefined => {
  if (value == null) return undefined;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
};

export function kindTable(kind: Kind): KindTable {
  const columns: Column[] = storedScalars(kind).map(([field, spec]) => ({
    field,
    key: kind.jsonKey(field),
    column: kind.column(field),
    valueType: spec.valueType,
    spec,
  }));
  const byKey = new Map(columns.map((column) => [column.key, column]));
  const selectList = ['id', 'version', 'created_at', 'updated_at', ...columns.map((c) => c.column)].join(', ');

  return {
    kind,
    columns,
    byKey,
    selectList,
    toObject(row) {
      const object: ApiObject = {
        ID: Number(row.id),
        CreatedAt: toIso(row.created_at),
        UpdatedAt: toIso(row.updated_at),
      };
      for (const column of columns) {
        const value = row[column.column];
        if (value == null) continue;
        object[column.key] = column.valueType === 'time' ? toIso(value) : value;
      }
      object.Version = Number(row.version);
      return object;
    },
    toParam(column, value) {
      if (value == null) return null;
      if (column.valueType === 'json') return JSON.stringify(value);
      return value;
    },
  };
}
