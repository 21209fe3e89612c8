/** Names the AWS controller's objects and the rest of threeport agree on (kept apart from the AWS SDK, which the controller loads only when it first needs it). */

/** AwsAccount's condition: whether its credentials work. */
export const CREDENTIALS = 'Credentials';
/** The EKS runtime's, database's and bucket's condition: made and usable. */
export const READY = 'Ready';
export const DATABASE_LABEL = 'control-plane.threeport.io/aws-relational-database-instance';
/** On a service account threeport added for a workload's buckets: its name (the buckets using it share it). */
export const BUCKET_SERVICE_ACCOUNT_LABEL = 'control-plane.threeport.io/bucket-service-account';
/** The annotation EKS's pod identity webhook reads: the role the service account's pods assume. */
export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
