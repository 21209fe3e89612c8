/**
 * GatewayDefinition: its ports checked (a gateway that could never work is a Failed status with
 * the reason, not a retry loop), and every instance asked to roll a change out — the original
 * ignored edits.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { gatewayPortsOf } from '../shared/gateway-ports.ts';
import type { HttpPort, TcpPort } from './gateway-resources.ts';

export type GatewayDefinition = ObjectOf<'GatewayDefinition'>;

export function gatewayDefinitionReconciler(): Reconciler<GatewayDefinition> {
  return {
    kind: 'GatewayDefinition',
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined; // its ports go with it; instances keep it from going while they exist
      const definition = context.object;
      checkPorts(definition, await gatewayPortsOf(context.client, definition.ID));
      for (const instance of await context.client.referrers('GatewayDefinition', definition.ID, 'GatewayInstance')) {
        await context.requestReconcile('GatewayInstance', Number(instance.ID), `gateway definition ${definition.Name} changed`);
      }
      return undefined;
    },
  };
}

export function checkPorts(definition: GatewayDefinition, { httpPorts, tcpPorts }: { httpPorts: HttpPort[]; tcpPorts: TcpPort[] }): void {
  const problems: string[] = [];
  const all = [...httpPorts, ...tcpPorts];
  if (all.length === 0) problems.push('it has no ports: give it HttpPorts or TcpPorts');
  for (const { port } of all) if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`port ${port} is not a port number (1-65535)`);
  const seen = new Set<number>();
  for (const { port } of all) {
    if (seen.has(port)) problems.push(`port ${port} is given twice`);
    seen.add(port);
  }
  for (const port of httpPorts) {
    if (!port.path.startsWith('/')) problems.push(`the path of port ${port.port} ("${port.path}") must start with /`);
    if (port.httpsRedirect && port.tls) problems.push(`port ${port.port} both redirects to HTTPS and serves it: redirect from a plain HTTP port`);
  }
  if (httpPorts.some((port) => port.httpsRedirect) && !httpPorts.some((port) => port.tls)) problems.push('a port redirects to HTTPS, but no HTTP port has TLSEnabled');
  if (all.some((port) => port.tls) && !definition.DomainNameDefinitionID) problems.push('TLS needs a domain name: set DomainNameDefinitionID');
  if (definition.SubDomain && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(String(definition.SubDomain))) problems.push(`SubDomain "${definition.SubDomain}" is not a DNS name`);
  if (problems.length > 0) throw new TerminalError(`gateway definition ${definition.Name} cannot work: ${problems.join('; ')}`);
}
