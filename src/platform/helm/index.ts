export { chartArguments, checkRepository, ChartSourceError, mirrored, type ChartMirror, type ChartSource } from './chart-source.ts';
export { Helm, HelmError, helmReason, type AppliedRelease, type ApplyControl, type HelmOptions, type ReleaseSpec, type ReleaseState, type RunControl } from './helm.ts';
export { layered, parseValues, ValuesError, type Values } from './values.ts';
