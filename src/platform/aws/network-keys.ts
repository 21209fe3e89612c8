/** The inventory keys of an EKS runtime's network: what the stack records and placement reads (no SDK needed). */
export const networkKeys = {
  vpc: 'vpc',
  internetGateway: 'internet-gateway',
  subnet: (tier: 'public' | 'private', zone: string) => `subnet/${tier}/${zone}`,
  publicRoutes: 'route-table/public',
  address: (zone: string) => `address/${zone}`,
  natGateway: (zone: string) => `nat-gateway/${zone}`,
  privateRoutes: (zone: string) => `route-table/private/${zone}`,
};
