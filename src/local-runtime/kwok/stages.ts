import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { sourcePath } from '../../install-root.ts';
import { podStartContainerStage, podStopContainerStage, someContainerNotStarted, someContainerRunning } from './container-stages.ts';

interface Stage {
  metadata: { name: string };
  spec: { selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] } };
}

function upstream(file: string): Stage {
  return parse(readFileSync(sourcePath(join('local-runtime/kwok/upstream', file)), 'utf8')) as Stage;
}

/** An upstream stage that also requires `key` to be false. */
function onlyWhenNot(stage: Stage, key: string): Stage {
  stage.spec.selector.matchExpressions.push({ key, operator: 'NotIn', values: ['true'] });
  return stage;
}

/**
 * The stages kwok plays on our clusters, as YAML documents for the kwokctl configuration (which
 * then replace kwokctl's defaults, so the defaults are all here): kwok's own node stages and
 * fast pod stages, unchanged but for two conditions — a Pod becomes ready once every container
 * started, and is deleted once none runs — and our stages that start and stop its containers one
 * by one with the kubelet's events (container-stages.ts).
 */
export function kwokStages(): string {
  const stages = [
    upstream('node-initialize.yaml'),
    upstream('node-heartbeat-with-lease.yaml'),
    podStartContainerStage,
    onlyWhenNot(upstream('pod-ready.yaml'), someContainerNotStarted),
    upstream('pod-complete.yaml'),
    podStopContainerStage,
    onlyWhenNot(upstream('pod-delete.yaml'), someContainerRunning),
  ];
  return stages.map((stage) => stringify(stage, { lineWidth: 0 })).join('---\n');
}
