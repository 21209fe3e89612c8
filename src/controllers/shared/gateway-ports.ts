/** A gateway definition's ports as the API holds them (its nested GatewayHttpPort and GatewayTcpPort rows), by port number. */
import type { ApiClient } from '../../client/api-client.ts';
import { httpPortOf, tcpPortOf, type HttpPort, type TcpPort } from '../../model/gateway-addresses.ts';

export async function gatewayPortsOf(api: ApiClient, definitionId: number): Promise<{ httpPorts: HttpPort[]; tcpPorts: TcpPort[] }> {
  const [http, tcp] = await Promise.all([api.kind('GatewayHttpPort').listAll({ gatewaydefinitionid: definitionId }), api.kind('GatewayTcpPort').listAll({ gatewaydefinitionid: definitionId })]);
  const byPort = <T extends { port: number }>(ports: T[]): T[] => ports.sort((a, b) => a.port - b.port);
  return {
    httpPorts: byPort(http.map(httpPortOf)),
    tcpPorts: byPort(tcp.map(tcpPortOf)),
  };
}
