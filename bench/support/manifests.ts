/** Manifests the benchmarks deploy. */

/** A one-replica Deployment `web` of `image`, asking for little so many fit on a simulated node. */
export const webDeployment = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ${image}
          resources: { requests: { cpu: 10m, memory: 16Mi } }
`;

/** `webDeployment` with a Service `web` on port 80 in front of it: something a dependent can be told the address of. */
export const webWithService = (image: string): string => `${webDeployment(image)}---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
`;
