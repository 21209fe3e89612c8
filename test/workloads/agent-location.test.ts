/** Where a runtime's agent runs, decided from the runtime, its nodes and what the controllers were given. */
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/controller/errors.ts';
import { agentLocationOf } from '../../src/controllers/kubernetes-runtime/agent-location.ts';
import { computeSpace } from '../../src/controllers/kubernetes-runtime/compute-space.ts';
import type { Manifest } from '../../src/model/manifest.ts';

const realNode: Manifest = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } };
const kwokNode: Manifest = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'kwok-1', annotations: { 'kwok.x-k8s.io/node': 'fake' } } };
const reachable = { image: 'registry.example.com/threeport:v1', apiUrl: 'https://threeport.example.com' };

describe('agent location', () => {
  it('Automatic: in the cluster only with an image, real nodes and an API the cluster can reach', () => {
    expect(agentLocationOf({ AgentLocation: 'Automatic' }, [realNode], reachable)).toMatchObject({ runs: 'Cluster', image: reachable.image });
    expect(agentLocationOf({ AgentLocation: 'Automatic' }, [realNode], { ...reachable, image: undefined })).toMatchObject({ runs: 'ControlPlane', why: expect.stringContaining('no agent image') });
    expect(agentLocationOf({ AgentLocation: 'Automatic' }, [kwokNode], reachable)).toMatchObject({ runs: 'ControlPlane', why: expect.stringContaining('simulated') });
    expect(agentLocationOf({ AgentLocation: 'Automatic' }, [realNode], { ...reachable, apiUrl: 'http://127.0.0.1:1323' })).toMatchObject({ runs: 'ControlPlane', why: expect.stringContaining('loopback') });
  });

  it('Cluster without an image is an error that says what to set; the other choices are taken as they are', () => {
    expect(() => agentLocationOf({ AgentLocation: 'Cluster' }, [realNode], { ...reachable, image: undefined })).toThrow(TerminalError);
    expect(() => agentLocationOf({ AgentLocation: 'Cluster' }, [realNode], { ...reachable, image: undefined })).toThrow(/ThreeportAgentImage.*--agent-image/);
    expect(agentLocationOf({ AgentLocation: 'Cluster' }, [kwokNode], reachable)).toMatchObject({ runs: 'Cluster' });
    expect(agentLocationOf({ AgentLocation: 'External' }, [realNode], reachable)).toMatchObject({ runs: 'External' });
    expect(agentLocationOf({ AgentLocation: 'ControlPlane' }, [realNode], reachable).image).toBeUndefined();
  });

  it('with auth on, the agent Deployment reads its token and the CA from a Secret beside it; a new token rolls it', () => {
    const credentials = { token: 'tpt_agent-token', caCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' };
    const manifests = computeSpace({ controlPlaneId: '0123456789abcdef', agent: { ...reachable, credentials } });
    const secret = manifests.find((manifest) => manifest.kind === 'Secret') as Manifest & { stringData: Record<string, string> };
    expect(secret.stringData).toEqual({ token: credentials.token, 'ca.crt': credentials.caCertificate });
    const deployment = JSON.stringify(manifests.find((manifest) => manifest.kind === 'Deployment'));
    expect(deployment).toContain('"name":"THREEPORT_API_TOKEN","valueFrom":{"secretKeyRef":{"name":"threeport-agent-01234567-credentials","key":"token"}}');
    expect(deployment).toContain('"name":"THREEPORT_API_CA","value":"/etc/threeport/api-ca/ca.crt"');
    expect(deployment).not.toContain(credentials.token);
    // A new token rolls the agent.
    const rolled = JSON.stringify(computeSpace({ controlPlaneId: '0123456789abcdef', agent: { ...reachable, credentials: { ...credentials, token: 'tpt_other' } } }).find((manifest) => manifest.kind === 'Deployment'));
    expect(rolled).not.toEqual(deployment);
    expect(computeSpace({ controlPlaneId: '0123456789abcdef', agent: reachable }).some((manifest) => manifest.kind === 'Secret')).toBe(false);
  });
});
