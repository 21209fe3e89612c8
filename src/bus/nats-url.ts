/** Parses and checks a NATS URL, so a typo is a start-up error rather than endless reconnects. */
export function parseNatsUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid NATS URL "${url}": expected nats://host:port`);
  }
  if (!['nats:', 'tls:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new Error(`invalid NATS URL "${url}": expected nats://host:port`);
  }
  return parsed;
}

/** A URL fit for logs and errors: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}
