/** `threeport controller` flags and environment, resolved and checked before anything starts. */
import { describe, expect, it } from 'vitest';
import { resolveControllerConfig } from '../../src/control-plane/controllers.ts';
import { ConfigError } from '../../src/control-plane/config.ts';

const key = Buffer.alloc(32, 7).toString('base64');
const nats = { natsUrl: 'nats://127.0.0.1:4222', encryptionKey: key };

describe('controller configuration', () => {
  it('agents: no image unless one is given (the controllers run them then), and the API URL they use', () => {
    const plain = resolveControllerConfig(['workload'], { ...nats, apiUrl: 'http://threeport-api:1323' }, {});
    expect(plain.agentImage).toBeUndefined();
    expect(plain.agentApiUrl).toBe('http://threeport-api:1323');
    const configured = resolveControllerConfig(['all'], nats, { THREEPORT_AGENT_IMAGE: 'registry.example.com/threeport:v1', THREEPORT_AGENT_API_URL: 'https://threeport.example.com' });
    expect(configured).toMatchObject({ agentImage: 'registry.example.com/threeport:v1', agentApiUrl: 'https://threeport.example.com' });
  });

  it('without the API’s encryption key they do not start: every group reads encrypted credentials', () => {
    expect(() => resolveControllerConfig(['workload'], { natsUrl: nats.natsUrl }, {})).toThrow(/need the API's encryption key.*--encryption-key/);
    expect(() => resolveControllerConfig(['workload'], { ...nats, encryptionKey: 'c2hvcnQ=' }, {})).toThrow(ConfigError);
    expect(resolveControllerConfig(['workload'], { natsUrl: nats.natsUrl }, { ENCRYPTION_KEY: key }).encryptionKey).toBe(key);
  });

  it('a bad agent API URL is refused, naming the flag’s value', () => {
    expect(() => resolveControllerConfig(['workload'], { ...nats, agentApiUrl: 'threeport:1323' }, {})).toThrow(ConfigError);
    expect(() => resolveControllerConfig(['workload'], { ...nats, agentApiUrl: 'threeport:1323' }, {})).toThrow('invalid agent API URL "threeport:1323"');
  });

  it('the drift interval: the default unless given, in seconds, and a bad one refused before anything starts', () => {
    expect(resolveControllerConfig(['workload'], nats, {}).driftIntervalMs).toBeUndefined();
    expect(resolveControllerConfig(['workload'], { ...nats, driftInterval: '300s' }, {}).driftIntervalMs).toBe(300_000);
    expect(resolveControllerConfig(['workload'], nats, { THREEPORT_DRIFT_INTERVAL: '30' }).driftIntervalMs).toBe(30_000);
    expect(() => resolveControllerConfig(['workload'], { ...nats, driftInterval: '5m' }, {})).toThrow('invalid drift interval "5m": seconds from 10 to 86400');
    expect(() => resolveControllerConfig(['workload'], { ...nats, driftInterval: '1' }, {})).toThrow(ConfigError);
  });
});
