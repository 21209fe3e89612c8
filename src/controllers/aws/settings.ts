/** How often the AWS controller looks at what it makes (its reconcilers' settings, kept apart from the AWS SDK). */

export interface AwsAccountSettings {
  /** How often credentials are tried again. @default 600000 */
  checkIntervalMs?: number;
}

export interface EksSettings {
  /** How soon a stack being made or removed is looked at again. @default 15000 */
  pollIntervalMs?: number;
  /** How often a ready runtime is checked, and its token made again when due. @default 60000 */
  checkIntervalMs?: number;
  /** A token with less than this left is made again. @default 300000 */
  tokenRefreshMarginMs?: number;
}

export interface ManagedServiceSettings {
  /** How soon a database or bucket being made or removed is looked at again. @default 15000 */
  pollIntervalMs?: number;
  /** How often a ready one is checked again (its Secret or wiring restored if changed). @default 300000 */
  checkIntervalMs?: number;
}

export interface AwsSettings {
  account?: AwsAccountSettings;
  eks?: EksSettings;
  /** Databases and buckets. */
  services?: ManagedServiceSettings;
}
