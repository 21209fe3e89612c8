/**
 * The endpoint the SDK's standard configuration names for a service when it is not AWS's own
 * (`AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`): what threeport hands the tools it
 * runs in clusters (external-dns, the External Secrets Operator) so they call the same one.
 * Kept apart from the SDK's clients, which only a process that meets an AWS object loads.
 */
export const configuredEndpoint = (service: 'ROUTE_53' | 'SECRETS_MANAGER' | 'STS', env: NodeJS.ProcessEnv = process.env): string | undefined =>
  env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
