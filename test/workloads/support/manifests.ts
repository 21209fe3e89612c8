/** Manifests the workload tests deploy, as YAML documents. */

/** The original's wordpress sample, in spirit: a WordPress Deployment and Service, a MariaDB StatefulSet with a volume and its Service. */
export function wordpress(options: { namespace?: string; image?: string; replicas?: number } = {}): string {
  const ns = options.namespace ? `\n  namespace: ${options.namespace}` : '';
  const namespaceDocument = options.namespace ? `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${options.namespace}\n---\n` : '';
  return `${namespaceDocument}apiVersion: apps/v1
kind: Deployment
metadata:
  name: wordpress${ns}
  labels: { app: wordpress }
spec:
  replicas: ${options.replicas ?? 1}
  selector:
    matchLabels: { app: wordpress, tier: frontend }
  template:
    metadata:
      labels: { app: wordpress, tier: frontend }
    spec:
      containers:
        - name: wordpress
          image: ${options.image ?? 'wordpress:6.8.2-apache'}
          env:
            - { name: WORDPRESS_DB_HOST, value: mariadb }
          ports: [{ containerPort: 80, name: http }]
          resources:
            requests: { cpu: 100m, memory: 128Mi, ephemeral-storage: 50Mi }
---
apiVersion: v1
kind: Service
metadata:
  name: wordpress${ns}
spec:
  selector: { app: wordpress, tier: frontend }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: mariadb${ns}
spec:
  serviceName: mariadb
  replicas: 1
  selector:
    matchLabels: { app: wordpress, tier: database }
  template:
    metadata:
      labels: { app: wordpress, tier: database }
    spec:
      containers:
        - name: mariadb
          image: mariadb:11.4
          ports: [{ containerPort: 3306, name: mysql }]
          volumeMounts: [{ name: data, mountPath: /var/lib/mysql }]
          resources:
            requests: { cpu: 100m, memory: 256Mi, ephemeral-storage: 50Mi }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 1Gi } }
---
apiVersion: v1
kind: Service
metadata:
  name: mariadb${ns}
spec:
  clusterIP: None
  selector: { app: wordpress, tier: database }
  ports: [{ port: 3306, targetPort: mysql }]
`;
}

export function web(options: { name?: string; image?: string; replicas?: number; extra?: string } = {}): string {
  const name = options.name ?? 'web';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${options.replicas ?? 1}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: ${name}
          image: ${options.image ?? 'nginx:1.27'}
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80 }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}-settings }
data: { greeting: hello }
${options.extra ? `---\n${options.extra}` : ''}`;
}

/** A CRD and a custom resource of it, in one definition. */
export function widgetCrdAndWidget(group: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer }
---
apiVersion: ${group}/v1
kind: Widget
metadata: { name: first }
spec: { size: 3 }
`;
}
