import { STATUS_CODES } from 'node:http';

export interface Meta {
  Page: number;
  Size: number;
  TotalCount: number;
}

/** The v0 response envelope: PascalCase top level, lower-case Status keys (sic). */
export interface Envelope<T = unknown> {
  Meta: Meta;
  Type: string;
  Data: T[] | null;
  /** `reason` is ours (the original's clients ignore it): what went wrong, for programs to branch on. */
  Status: { code: number; message: string; error: string; reason?: string };
}

const statusText = (code: number): string => STATUS_CODES[code] ?? 'Unknown';

export function envelope<T>(type: string, data: T[], meta?: Meta, code = 200): Envelope<T> {
  return {
    Meta: meta ?? { Page: 1, Size: 1, TotalCount: 1 },
    Type: type,
    Data: data,
    Status: { code, message: statusText(code), error: '' },
  };
}

export function errorEnvelope(type: string, code: number, error: string, reason?: string): Envelope<never> {
  return {
    Meta: { Page: 0, Size: 0, TotalCount: 0 },
    Type: type,
    Data: null,
    Status: { code, message: statusText(code), error, ...(reason && { reason }) },
  };
}
