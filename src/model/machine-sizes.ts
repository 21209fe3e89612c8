/**
 * Threeport's machine sizes and what they are in AWS: node profiles × sizes → EC2 instance types
 * (for EKS node groups), database sizes → RDS instance classes. The original's map mislabelled the
 * larger memory-optimized sizes as compute-optimized; here each profile has its own.
 */

export const nodeInstanceTypes: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Balanced: {
    '2XSmall': 't3.nano',
    XSmall: 't3.micro',
    Small: 't3.small',
    Medium: 't3.medium',
    Large: 'm7i.large',
    XLarge: 'm7i.xlarge',
    '2XLarge': 'm7i.2xlarge',
    '3XLarge': 'm7i.4xlarge',
    '4XLarge': 'm7i.8xlarge',
  },
  ComputeOptimized: {
    Small: 'c7g.medium',
    Medium: 'c7g.large',
    Large: 'c7g.xlarge',
    XLarge: 'c7g.2xlarge',
    '2XLarge': 'c7g.4xlarge',
    '3XLarge': 'c7g.8xlarge',
    '4XLarge': 'c7g.12xlarge',
  },
  MemoryOptimized: {
    Medium: 'r6i.large',
    Large: 'r6i.xlarge',
    XLarge: 'r6i.2xlarge',
    '2XLarge': 'r6i.4xlarge',
    '3XLarge': 'r6i.8xlarge',
    '4XLarge': 'r6i.12xlarge',
  },
};

export const databaseInstanceClasses: Readonly<Record<string, string>> = {
  XSmall: 'db.t3.micro',
  Small: 'db.t3.small',
  Medium: 'db.t3.medium',
  Large: 'db.m5.large',
  XLarge: 'db.m5.xlarge',
  '2XLarge': 'db.m5.2xlarge',
  '3XLarge': 'db.m5.4xlarge',
  '4XLarge': 'db.m5.8xlarge',
};
