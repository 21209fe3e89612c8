/**
 * The original's secret and observability sample configs, unchanged, through the real tptctl and
 * the all-in-one it starts on the test bed's cluster a: the secret kept in AWS Secrets Manager
 * (moto) and brought in by the External Secrets Operator, the observability stack with metrics and
 * logging, both from the shared chart mirror (THREEPORT_CHART_MIRROR, which `up` passes on).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../src/local-runtime/ports.ts';
import { cleanAws, kubeconfig, serveSharedCharts } from '../support/peers.ts';
import { ensureBundle, sample, Tptctl } from './support.ts';

const LONG = { timeout: 420_000 };

describe("the original's secret and observability configs through tptctl", async () => {
  await ensureBundle();
  const aws = await cleanAws();
  const charts = await serveSharedCharts();
  afterAll(() => charts.close());
  const tptctl = new Tptctl({ AWS_ENDPOINT_URL: aws.endpoint, THREEPORT_CHART_MIRROR: charts.url });
  const file = (name: string, text: string): string => {
    writeFileSync(join(tptctl.dir, name), text);
    return join(tptctl.dir, name);
  };
  const cluster = kubeconfig('a');
  const port = await freePort();
  await tptctl.ok(['up', '--name', 'so', '--listen', `127.0.0.1:${port}`, '--kubeconfig', cluster.path, '--context', cluster.context], { timeoutMs: 150_000 });
  afterAll(async () => {
    await tptctl.run(['delete', 'observability-stack', '-c', join(tptctl.dir, 'observability-stack.yaml'), '--wait', '--timeout', '4m'], { timeoutMs: 300_000 });
    await tptctl.run(['delete', 'secret', '-c', join(tptctl.dir, 'secret.yaml'), '--wait', '--timeout', '2m'], { timeoutMs: 150_000 });
    // The operator stays for the runtime's other secrets; the cluster is shared, so it goes here.
    const operator = /external-secrets-[0-9a-f]{8}/.exec((await tptctl.run(['get', 'helm-workload-instances'])).stdout)?.[0];
    if (operator) await tptctl.run(['delete', 'helm-workload-instance', '--name', operator, '--wait', '--timeout', '2m'], { timeoutMs: 150_000 });
    await tptctl.run(['delete', 'workload', '-c', join(tptctl.dir, 'app.yaml'), '--wait', '--timeout', '2m'], { timeoutMs: 150_000 });
    await tptctl.run(['down', '--name', 'so'], { timeoutMs: 60_000 });
  }, 600_000);
  await tptctl.ok(['create', 'aws-account', '-c', sample('aws-account.yaml')]);
  file('app-manifests.yaml', stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app' }, spec: { replicas: 1, selector: { matchLabels: { app: 'app' } }, template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } } }));
  await tptctl.ok(['create', 'workload', '-c', file('app.yaml', 'Workload:\n  Name: wordpress\n  YAMLDocument: app-manifests.yaml\n'), '--wait', '--timeout', '2m'], { timeoutMs: 150_000 });

  it('samples/secret/secret.yaml: the values in Secrets Manager, the operator installed, describe says where (never the values)', LONG, async () => {
    // The original's sample as it is, but for the runtime's name.
    const secretFile = file(
      'secret.yaml',
      `Secret:
  Name: sensitive-data
  KubernetesRuntimeInstance:
    Name: threeport-so
  AwsAccountName: default-account
  WorkloadInstance:
    Name: wordpress
  # HelmWorkloadInstance:
  #   Name: wordpress
  Data:
    CA_CERTIFICATE: |
      -----BEGIN CERTIFICATE-----
      MIIDdzCCAl+gAwIBAgIJAJ
      -----END CERTIFICATE-----
    CA_PRIVATE_KEY: |
      -----BEGIN
      MIIEpAIBAAKCAQEA
      -----END
`,
    );
    const created = await tptctl.ok(['create', 'secret', '-c', secretFile, '--wait', '--timeout', '4m'], { timeoutMs: 300_000 });
    expect(created).toContain('Complete: secret sensitive-data created');
    expect(created).not.toContain('MIIEpAIBAAKCAQEA');
    const stored = await new SecretsManagerClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials }).send(new GetSecretValueCommand({ SecretId: 'sensitive-data' }));
    expect(JSON.parse(String(stored.SecretString))).toMatchObject({ CA_PRIVATE_KEY: '-----BEGIN\nMIIEpAIBAAKCAQEA\n-----END\n' });
    const described = await tptctl.ok(['describe', 'secret-instance', 'sensitive-data']);
    expect(described).toMatch(/Secret wordpress-[a-z0-9]{10}\/sensitive-data on runtime threeport-so, synced from AWS Secrets Manager \(sensitive-data\) by the External Secrets Operator/);
    expect(described).not.toContain('MIIEpAIBAAKCAQEA');
    expect(await tptctl.ok(['get', 'helm-workload-instances'])).toMatch(/external-secrets-[0-9a-f]{8}\s+threeport-external-secrets/);
  });

  it('samples/observability/observability-stack.yaml: metrics and logging installed; describe shows how to open Grafana and Prometheus', LONG, async () => {
    const stackFile = file(
      'observability-stack.yaml',
      `ObservabilityStack:
  Name: observability
  KubernetesRuntimeInstance:
    Name: threeport-so
  MetricsEnabled: true
  LoggingEnabled: true
  # LokiHelmValuesDocument: |
  # PromtailHelmValuesDocument: |
  # KubePrometheusStackHelmValuesDocument: |
  # GrafanaHelmValuesDocument: |
  #   grafana.ini:
  #     auth.anonymous:
  #       enabled: true
  #       org_role: Admin
`,
    );
    expect(await tptctl.ok(['create', 'observability-stack', '-c', stackFile, '--wait', '--timeout', '6m'], { timeoutMs: 400_000 })).toContain('Complete: observability stack observability created');
    const described = await tptctl.ok(['describe', 'observability-stack-instance', 'observability']);
    expect(described).toContain('kubectl -n threeport-observability port-forward svc/grafana 3000:80');
    expect(described).toContain('kubectl -n threeport-observability port-forward svc/metrics-prometheus 9090');
    expect(described).toContain("get secret grafana-admin -o jsonpath='{.data.admin-password}'");
    const releases = await tptctl.ok(['get', 'helm-workload-instances']);
    for (const chart of ['grafana', 'kube-prometheus-stack', 'loki', 'alloy']) expect(releases).toMatch(new RegExp(`observability-[a-z-]+-${chart}\\s`));
  });
});
