/** Where a gateway is reached: its hostname and the URLs of its HTTP ports (shared by the controller's status and tptctl). */

export interface HttpPort {
  port: number;
  path: string;
  tls: boolean;
  httpsRedirect: boolean;
}

/** `<subdomain>.<domain>`, or the domain itself. */
export const hostOf = (subDomain: string | undefined, domain: string): string => (subDomain ? `${subDomain}.${domain}` : domain).toLowerCase().replace(/\.$/, '');

/** The URLs a gateway serves its HTTP ports at (a scheme's default port left out; redirecting ports are not served). */
export function gatewayUrls(host: string, httpPorts: readonly HttpPort[]): string[] {
  return httpPorts
    .filter((port) => !port.httpsRedirect)
    .map((port) => {
      const scheme = port.tls ? 'https' : 'http';
      const shown = (port.tls && port.port === 443) || (!port.tls && port.port === 80) ? '' : `:${port.port}`;
      return `${scheme}://${host}${shown}${port.path}`;
    });
}

/** A GatewayHttpPort row as the API returns it. */
export const httpPortOf = (row: Record<string, unknown>): HttpPort => ({ port: Number(row.Port), path: String(row.Path ?? '/'), tls: row.TLSEnabled === true, httpsRedirect: row.HTTPSRedirect === true });

export interface TcpPort {
  port: number;
  tls: boolean;
}

/** Every address a gateway serves: its HTTP ports' URLs, then `tcp://` / `tls://` host:port of its TCP ports. */
export const gatewayAddresses = (host: string, httpPorts: readonly HttpPort[], tcpPorts: readonly TcpPort[]): string[] => [
  ...gatewayUrls(host, httpPorts),
  ...tcpPorts.map((port) => `${port.tls ? 'tls' : 'tcp'}://${host}:${port.port}`),
];

/** A GatewayTcpPort row as the API returns it. */
export const tcpPortOf = (row: Record<string, unknown>): TcpPort => ({ port: Number(row.Port), tls: row.TLSEnabled === true });
