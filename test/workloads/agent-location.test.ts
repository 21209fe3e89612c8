/** Where a runtime's agent runs, decided from the runtime, its nodes and what the controllers were given. */
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/controller/errors.ts';
import { agentLocationOf } from '../../src/controllers/kubernetes-runtime/agent-location.ts';
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
});
