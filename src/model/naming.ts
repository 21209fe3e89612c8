/** Splits a Go-style identifier into words: "YAMLDocument" → ["YAML", "Document"], "CACert" → ["CA", "Cert"]. */
function words(identifier: string): string[] {
  return identifier.match(/[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+/g) ?? [identifier];
}

/** GORM's column naming: "KubernetesRuntimeInstanceID" → "kubernetes_runtime_instance_id". */
export const snakeCase = (identifier: string): string => words(identifier).map((w) => w.toLowerCase()).join('_');

/** "HelmWorkloadDefinition" → "helm-workload-definition" */
export const kebabCase = (identifier: string): string => words(identifier).map((w) => w.toLowerCase()).join('-');

/** "WorkloadDefinition" → "workloadDefinition" (NATS subject prefixes). */
export const lowerCamelCase = (identifier: string): string => identifier.charAt(0).toLowerCase() + identifier.slice(1);

/** English plural of a lowercase name: "delivery" → "deliveries", "workload-instance" → "workload-instances". */
export const plural = (name: string): string => (/[^aeiou]y$/.test(name) ? `${name.slice(0, -1)}ies` : /(s|x|ch|sh)$/.test(name) ? `${name}es` : `${name}s`);
