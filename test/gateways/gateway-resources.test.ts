/** The objects a gateway plan gives, and the plans no gateway could serve (pure; no cluster). */
import { describe, expect, it } from 'vitest';
import { backendPort, gatewayObjectName, GatewayProblem, gatewayResources, type GatewayPlan } from '../../src/controllers/gateway/gateway-resources.ts';
import { gatewayUrls } from '../../src/model/gateway-addresses.ts';

const plan = (overrides: Partial<GatewayPlan> = {}): GatewayPlan => ({
  name: 'shop',
  namespace: 'shop-ns',
  host: 'www.example.com',
  httpPorts: [
    { port: 80, path: '/', tls: false, httpsRedirect: true },
    { port: 443, path: '/', tls: true, httpsRedirect: false },
  ],
  tcpPorts: [],
  service: { name: 'web', ports: [{ port: 80 }, { port: 9090 }] },
  issuer: { kind: 'acme', server: 'https://acme.example/directory' },
  adminEmail: 'ops@example.com',
  labels: {},
  ...overrides,
});

describe('gateway resources', () => {
  it('redirects to the HTTPS port when it is not 443, and routes TCP ports to the Service port of the same number', () => {
    const objects = gatewayResources(
      plan({
        httpPorts: [
          { port: 80, path: '/', tls: false, httpsRedirect: true },
          { port: 8443, path: '/', tls: true, httpsRedirect: false },
        ],
        tcpPorts: [{ port: 9090, tls: false }],
      }),
    );
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual(['Gateway/shop', 'HTTPRoute/shop-80', 'HTTPRoute/shop-8443', 'TCPRoute/shop-9090', 'Issuer/shop', 'Certificate/shop']);
    expect(objects[1]!.spec).toMatchObject({ rules: [{ filters: [{ requestRedirect: { scheme: 'https', port: 8443 } }] }] });
    expect(objects[2]!.spec).toMatchObject({ rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] });
    expect(objects[3]!.spec).toMatchObject({ parentRefs: [{ sectionName: 'tcp-9090' }], rules: [{ backendRefs: [{ port: 9090 }] }] });
    expect(objects[3]!.metadata.annotations).toEqual({ 'external-dns.alpha.kubernetes.io/hostname': 'www.example.com' });
  });

  it('a self-signed issuer needs no HTTP port; ACME does, and says how to add one', () => {
    const httpsOnly = { httpPorts: [{ port: 443, path: '/', tls: true, httpsRedirect: false }] };
    expect(gatewayResources(plan({ ...httpsOnly, issuer: { kind: 'self-signed' } })).find((object) => object.kind === 'Issuer')?.spec).toEqual({ selfSigned: {} });
    expect(() => gatewayResources(plan(httpsOnly))).toThrow(/HTTP-01 challenge: add an HTTP port 80/);
  });

  it('refuses TLS without a domain and a Service port it cannot choose', () => {
    const { host: _host, ...withoutHost } = plan();
    expect(() => gatewayResources(withoutHost)).toThrow(GatewayProblem);
    expect(() => backendPort({ name: 'web', ports: [{ port: 8080 }, { port: 9090 }] }, 443, true)).toThrow('Service web has ports 8080, 9090: none is 443 or 80');
    expect(backendPort({ name: 'web', ports: [{ port: 3000 }] }, 443, true)).toBe(3000);
  });

  it('names objects from any instance name, and shows URLs without default ports', () => {
    expect(gatewayObjectName({ id: 7, name: 'My_Gateway.For.Shop' })).toMatch(/^my-gateway-for-shop-[0-9a-f]{6}$/);
    expect(gatewayObjectName({ id: 7, name: '___' })).toMatch(/^gateway-[0-9a-f]{6}$/);
    // Names that differ only in punctuation stay apart.
    expect(gatewayObjectName({ id: 8, name: 'web_gw' })).not.toBe(gatewayObjectName({ id: 9, name: 'web-gw' }));
    expect(gatewayUrls('shop.example.com', plan().httpPorts)).toEqual(['https://shop.example.com/']);
    expect(gatewayUrls('shop.example.com', [{ port: 8080, path: '/api', tls: false, httpsRedirect: false }])).toEqual(['http://shop.example.com:8080/api']);
  });
});
