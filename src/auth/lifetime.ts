/** Lifetimes of certificates and tokens as people write them: hours or days, e.g. 720h, 90d. */
const HOUR_MS = 60 * 60 * 1000;

/** Milliseconds, or undefined when `text` is not a whole number of hours (h) or days (d) above zero. */
export function parseLifetime(text: string): number | undefined {
  const match = /^(\d+)(h|d)$/.exec(text.trim());
  const amount = Number(match?.[1]);
  if (!match || amount < 1) return undefined;
  return amount * (match[2] === 'd' ? 24 * HOUR_MS : HOUR_MS);
}
