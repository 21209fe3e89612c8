/**
 * kwok stages that play a kubelet's part in a Pod's life, one container at a time, so the
 * cluster shows the kubelet's ordinary events: Pulled, Created and Started for each container
 * (init containers first) as the Pod starts, and Killing for each running container when it is
 * deleted. The events are written as the kubelet writes them (core/v1, source kubelet on the
 * node, fieldPath of the container); kwok's own `event` step cannot name the container, so they
 * are created by `apply` steps from templates.
 *
 * A container's status is the progress marker: it leaves `waiting` once started, and leaves
 * `running` once stopped. kwok's pod-ready waits until every container has started, and its
 * pod-delete until none runs (see stages.ts).
 */

/** jq: how many containers (init ones included) have started, i.e. are no longer waiting. */
const startedCount = '[(.status.initContainerStatuses // [])[], (.status.containerStatuses // [])[] | select(.state.waiting == null)] | length';
const containerCount = '(.spec.initContainers // []) + .spec.containers | length';

/** jq, true while some container of the Pod has not started yet. */
export const someContainerNotStarted = `(${startedCount}) < (${containerCount})`;

/**
 * jq, true when a container's image has a tag or digest containing `unstartable`: a Pod that never
 * starts, as with an image that cannot be pulled, for tests of failed rollouts.
 */
export const runsUnstartableImage = '[(.spec.initContainers // [])[], .spec.containers[] | .image | select(test(":[^/]*unstartable"))] | length > 0';

/** jq, true while some container of the Pod runs. */
export const someContainerRunning = '[(.status.initContainerStatuses // [])[], (.status.containerStatuses // [])[] | select(.state.running != null)] | length > 0';

/** Go template: `$container` is the next one to start, `$isInit` whether it is an init container, `$started` its index. */
const nextContainer = `{{- $inits := .spec.initContainers | default list }}
{{- $started := 0 }}
{{- range concat (.status.initContainerStatuses | default list) (.status.containerStatuses | default list) }}{{ if not .state.waiting }}{{ $started = add1 $started }}{{ end }}{{ end }}
{{- $container := index (concat $inits .spec.containers) $started }}
{{- $isInit := lt (int $started) (len $inits) }}`;

/** Go template: `$container` is the one to stop (regular containers before sidecars), `$isInit` whether it is an init container. */
const runningContainer = `{{- $container := dict }}
{{- $isInit := false }}
{{- range .spec.containers }}{{ $name := .name }}{{ range $.status.containerStatuses | default list }}{{ if and (eq .name $name) .state.running (not $container.name) }}{{ $container = dict "name" $name }}{{ end }}{{ end }}{{ end }}
{{- if not $container.name }}{{ range .spec.initContainers | default list }}{{ $name := .name }}{{ range $.status.initContainerStatuses | default list }}{{ if and (eq .name $name) .state.running (not $container.name) }}{{ $container = dict "name" $name }}{{ $isInit = true }}{{ end }}{{ end }}{{ end }}{{ end }}`;

/**
 * Go template of a core/v1 Event about `$container`, as the kubelet records it. Its name is
 * derived from the Pod, the container and the reason, so a stage played twice writes it once.
 */
function kubeletEvent(selectContainer: string, reason: string, message: string): string {
  return `${selectContainer}
{{- $now := Now }}
{{- $field := printf (ternary "spec.initContainers{%s}" "spec.containers{%s}" $isInit) $container.name }}
apiVersion: v1
kind: Event
metadata:
  name: {{ printf "%s.%s" (trunc 200 .metadata.name) (printf "%s/%s/${reason}" .metadata.uid $container.name | sha256sum | trunc 16) | Quote }}
  namespace: {{ .metadata.namespace | Quote }}
involvedObject:
  apiVersion: v1
  kind: Pod
  name: {{ .metadata.name | Quote }}
  namespace: {{ .metadata.namespace | Quote }}
  uid: {{ .metadata.uid | Quote }}
  fieldPath: {{ $field | Quote }}
reason: ${reason}
message: {{ ${message} | Quote }}
type: Normal
source:
  component: kubelet
  host: {{ .spec.nodeName | Quote }}
reportingComponent: kubelet
reportingInstance: {{ .spec.nodeName | Quote }}
firstTimestamp: {{ $now | Quote }}
lastTimestamp: {{ $now | Quote }}
count: 1
`;
}

/** No image is pulled: with IfNotPresent or Never the kubelet finds it present, with Always it pulls it (in no time). */
const pulledMessage =
  '(ternary (printf "Successfully pulled image %q in 0s (0s including waiting). Image size: 0 bytes." $container.image) (printf "Container image %q already present on machine" $container.image) (eq $container.imagePullPolicy "Always"))';

/**
 * Go template of the Pod's status with `$container` started: an init container runs to
 * completion (a sidecar, restartPolicy Always, keeps running), a regular one runs. Containers
 * before it keep their status; those after it wait.
 */
const statusWithNextStarted = `${nextContainer}
{{- $now := Now }}
{{- $initStatuses := .status.initContainerStatuses | default list }}
{{- $statuses := .status.containerStatuses | default list }}
{{- $waitingReason := ternary "PodInitializing" "ContainerCreating" $isInit }}
{{- with $inits }}
initContainerStatuses:
{{- range $index, $spec := $inits }}
{{- $status := dict "name" $spec.name "image" $spec.image "imageID" "" "restartCount" 0 "ready" false "started" false "state" (dict "waiting" (dict "reason" "PodInitializing")) }}
{{- if lt $index (int $started) }}{{ $status = index $initStatuses $index }}
{{- else if eq $index (int $started) }}
{{- if eq ($spec.restartPolicy | default "") "Always" }}
{{- $_ := set $status "ready" true }}{{ $_ := set $status "started" true }}{{ $_ := set $status "state" (dict "running" (dict "startedAt" $now)) }}
{{- else }}
{{- $_ := set $status "ready" true }}{{ $_ := set $status "state" (dict "terminated" (dict "exitCode" 0 "reason" "Completed" "startedAt" $now "finishedAt" $now)) }}
{{- end }}
{{- end }}
- {{ toJson $status }}
{{- end }}
{{- end }}
containerStatuses:
{{- range $index, $spec := .spec.containers }}
{{- $position := add (len $inits) $index }}
{{- $status := dict "name" $spec.name "image" $spec.image "imageID" "" "restartCount" 0 "ready" false "started" false "state" (dict "waiting" (dict "reason" $waitingReason)) }}
{{- if lt (int $position) (int $started) }}{{ $status = index $statuses $index }}
{{- else if eq (int $position) (int $started) }}{{ $_ := set $status "started" true }}{{ $_ := set $status "state" (dict "running" (dict "startedAt" $now)) }}
{{- end }}
- {{ toJson $status }}
{{- end }}
`;

/** Go template of the Pod's status with `$container` stopped (its process exited on SIGTERM). */
const statusWithRunningStopped = `${runningContainer}
{{- $now := Now }}
{{- range $list := list "initContainerStatuses" "containerStatuses" }}
{{- with index $.status $list }}
{{ $list }}:
{{- range . }}
{{- $status := . }}
{{- if and (eq .name $container.name) .state.running }}
{{- $status = omit . "state" "ready" "started" }}
{{- $_ := set $status "ready" false }}{{ $_ := set $status "started" false }}
{{- $_ := set $status "state" (dict "terminated" (dict "exitCode" 0 "reason" "Completed" "startedAt" .state.running.startedAt "finishedAt" $now)) }}
{{- end }}
- {{ toJson $status }}
{{- end }}
{{- end }}
{{- end }}
`;

const pod = { apiGroup: 'v1', kind: 'Pod' };

export const podStartContainerStage = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'pod-start-container' },
  spec: {
    resourceRef: pod,
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
        { key: '.status.phase', operator: 'In', values: ['Pending'] },
        { key: someContainerNotStarted, operator: 'In', values: ['true'] },
        { key: runsUnstartableImage, operator: 'NotIn', values: ['true'] },
      ],
    },
    steps: [
      { apply: { template: kubeletEvent(nextContainer, 'Pulled', pulledMessage) } },
      { apply: { template: kubeletEvent(nextContainer, 'Created', 'printf "Created container: %s" $container.name') } },
      { apply: { template: kubeletEvent(nextContainer, 'Started', 'printf "Started container %s" $container.name') } },
      { patch: { subresource: 'status', root: 'status', template: statusWithNextStarted } },
    ],
  },
};

export const podStopContainerStage = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'pod-stop-container' },
  spec: {
    resourceRef: pod,
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'Exists' },
        { key: someContainerRunning, operator: 'In', values: ['true'] },
      ],
    },
    // The container stops first: in a namespace being deleted the event is refused (as a kubelet's
    // is), and kwok gives up the rest of a stage at a refused step — the Pod would never go.
    // Templates are rendered from the Pod as the stage found it, so the event still names the
    // container that was running.
    steps: [
      { patch: { subresource: 'status', root: 'status', template: statusWithRunningStopped } },
      { apply: { template: kubeletEvent(runningContainer, 'Killing', 'printf "Stopping container %s" $container.name') } },
    ],
  },
};
