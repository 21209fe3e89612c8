/**
 * The values the store can write and read back unchanged, on PostgreSQL and on PGlite. The API
 * refuses anything else at write (its JSON Schemas are built from these rules), and the read path
 * treats a stored value outside them as unreadable rather than failing the whole response.
 */

/** BIGINT holds more, but JavaScript numbers (and JSON parsers in most clients) are exact only up to 2^53 - 1. */
export const INTEGER_MIN = -Number.MAX_SAFE_INTEGER;
export const INTEGER_MAX = Number.MAX_SAFE_INTEGER;

/** What RFC 3339 (four-digit years) and PostgreSQL's TIMESTAMPTZ share, as UTC instants. */
export const TIME_MIN = Date.parse('0001-01-01T00:00:00.000Z');
export const TIME_MAX = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * RFC 3339 date-time with upper-case `T`/`Z`, a numeric offset of at most 23:59 and no leap
 * second (JavaScript dates have none), whose UTC instant lies in [TIME_MIN, TIME_MAX]: year 0000 is
 * excluded, and so are the offsets that would move 0001-01-01 before year 1 or 9999-12-31 after
 * year 9999 (checked on the first and last day only, so a few valid local times there are refused
 * too). Day-of-month validity is left to the `date-time` format.
 */
export const TIME_PATTERN =
  '^(?!0000-)(?!0001-01-01T[0-9:.]+\\+(?!00:00$))(?!9999-12-31T[0-9:.]+-(?!00:00$))' +
  '\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d+)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$';

/**
 * Text PostgreSQL stores: no NUL (TEXT and JSONB refuse it). Unpaired UTF-16 surrogates must be
 * refused too (the drivers would store U+FFFD instead, and JSONB refuses the escape), but no
 * pattern can say so to tools that work in UTF-8, where such text cannot exist (String.isWellFormed).
 */
export const TEXT_PATTERN = '^[^\\u0000]*$';

const timePattern = new RegExp(TIME_PATTERN);

export const isStorableInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= INTEGER_MIN && value <= INTEGER_MAX;

export const isStorableInstant = (epochMs: number): boolean => Number.isFinite(epochMs) && epochMs >= TIME_MIN && epochMs <= TIME_MAX;

/**
 * An RFC 3339 timestamp the store keeps exactly, as the UTC ISO string it is stored as; undefined
 * when it is not one (wrong form, impossible date such as Feb 30, or out of range).
 */
export function storableTime(value: string): string | undefined {
  if (!timePattern.test(value)) return undefined;
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (day > daysInMonth(year, month)) return undefined;
  const epochMs = Date.parse(value);
  return isStorableInstant(epochMs) ? new Date(epochMs).toISOString() : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
