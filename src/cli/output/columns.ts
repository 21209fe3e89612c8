/**
 * The columns `tptctl get` prints for each kind, as the original printed them (reference §1.8).
 * A column is `HEADER=source`, where source is a field (`Location`), the name of a referenced
 * object (`@WorkloadDefinitionID`) or one of its fields (`@KubernetesRuntimeDefinitionID.InfraProvider`), a key
 * of a JSON field (`Placement.Name`),
 * a computed value (`!status`, `!age`, `!ports`) or a constant (`"v0`).
 */
const REF_NAME = (field: string, header: string) => `${header}=@${field}`;
const KRI = REF_NAME('KubernetesRuntimeInstanceID', 'KUBERNETES RUNTIME INSTANCE');
const WI = REF_NAME('WorkloadInstanceID', 'WORKLOAD INSTANCE');

export const kindColumns: Readonly<Record<string, readonly string[]>> = {
  WorkloadDefinition: ['NAME=Name', 'AGE=!age'],
  WorkloadInstance: ['NAME=Name', REF_NAME('WorkloadDefinitionID', 'WORKLOAD DEFINITION'), KRI, 'STATUS=!status', 'AGE=!age'],
  HelmWorkloadDefinition: ['NAME=Name', 'REPO=Repo', 'CHART=Chart', 'AGE=!age'],
  HelmWorkloadInstance: ['NAME=Name', REF_NAME('HelmWorkloadDefinitionID', 'HELM WORKLOAD DEFINITION'), KRI, 'STATUS=!status', 'AGE=!age'],
  KubernetesRuntimeDefinition: ['NAME=Name', 'INFRA PROVIDER=InfraProvider', 'HIGH AVAILABILITY=HighAvailability', 'INFRA PROVIDER ACCOUNT=InfraProviderAccountName', 'AGE=!age'],
  KubernetesRuntimeInstance: [
    'NAME=Name', REF_NAME('KubernetesRuntimeDefinitionID', 'KUBERNETES RUNTIME DEFINITION'), 'LOCATION=Location', 'DEFAULT RUNTIME=DefaultRuntime',
    'INFRA PROVIDER=@KubernetesRuntimeDefinitionID.InfraProvider', 'FORCE DELETE=ForceDelete', 'AGE=!age',
  ],
  GatewayDefinition: ['NAME=Name', 'PORTS=!ports', 'SUBDOMAIN=SubDomain', 'KUBERNETES SERVICE NAME=ServiceName', 'AGE=!age'],
  GatewayInstance: ['NAME=Name', REF_NAME('GatewayDefinitionID', 'GATEWAY DEFINITION'), KRI, WI, 'AGE=!age'],
  DomainNameDefinition: ['NAME=Name', 'ZONE=Zone', 'ADMIN EMAIL=AdminEmail', 'AGE=!age'],
  DomainNameInstance: ['NAME=Name', REF_NAME('DomainNameDefinitionID', 'DOMAIN NAME DEFINITION'), KRI, WI, 'AGE=!age'],
  AwsAccount: ['NAME=Name', 'DEFAULT ACCOUNT=DefaultAccount', 'DEFAULT REGION=DefaultRegion', 'ACCOUNT ID=AccountID', 'AGE=!age'],
  AwsEksKubernetesRuntimeDefinition: [
    'NAME=Name', REF_NAME('AwsAccountID', 'AWS ACCOUNT'), 'ZONE COUNT=ZoneCount', 'DEFAULT NODE GROUP INSTANCE TYPE=DefaultNodeGroupInstanceType',
    'DEFAULT NODE GROUP MINIMUM SIZE=DefaultNodeGroupMinimumSize', 'DEFAULT NODE GROUP MAXIMUM SIZE=DefaultNodeGroupMaximumSize', 'AGE=!age',
  ],
  AwsEksKubernetesRuntimeInstance: [
    'NAME=Name', 'REGION=Region', REF_NAME('KubernetesRuntimeInstanceID', 'KUBERNETES RUNTIME INSTANCE NAME'),
    REF_NAME('AwsEksKubernetesRuntimeDefinitionID', 'AWS EKS KUBERNETES DEFINITION NAME'), 'RECONCILED=Reconciled', 'AGE=!age',
  ],
  AwsRelationalDatabaseDefinition: [
    'NAME=Name', 'ENGINE=Engine', 'ENGINE VERSION=EngineVersion', 'DATABASE NAME=DatabaseName', 'DATABASE_PORT=DatabasePort', 'BACKUP DAYS=BackupDays',
    'MACHINE SIZE=MachineSize', 'STORAGE GB=StorageGb', 'WORKLOAD SECRET NAME=WorkloadSecretName', REF_NAME('AwsAccountID', 'AWS ACCOUNT NAME'), 'AGE=!age',
  ],
  AwsRelationalDatabaseInstance: ['NAME=Name', REF_NAME('AwsRelationalDatabaseDefinitionID', 'AWS RELATIONAL DATABASE DEFINITION'), WI, 'AGE=!age'],
  AwsObjectStorageBucketDefinition: [
    'NAME=Name', 'PUBLIC READ ACCESS=PublicReadAccess', 'WORKLOAD SERVICE ACCOUNT NAME=WorkloadServiceAccountName',
    'WORKLOAD BUCKET CONFIG MAP=WorkloadBucketEnvVar', REF_NAME('AwsAccountID', 'AWS ACCOUNT NAME'), 'AGE=!age',
  ],
  AwsObjectStorageBucketInstance: ['NAME=Name', REF_NAME('AwsObjectStorageBucketDefinitionID', 'AWS OBJECT STORAGE BUCKET DEFINITION'), WI, 'AGE=!age'],
  SecretDefinition: ['NAME=Name', 'AGE=!age'],
  SecretInstance: ['NAME=Name', 'AGE=!age', WI],
  ObservabilityStackDefinition: [
    'NAME=Name', REF_NAME('ObservabilityDashboardDefinitionID', 'OBSERVABILITY DASHBOARD DEFINITION'), REF_NAME('MetricsDefinitionID', 'METRICS DEFINITION'),
    REF_NAME('LoggingDefinitionID', 'LOGGING DEFINITION'), 'AGE=!age',
  ],
  ObservabilityStackInstance: [
    'NAME=Name', REF_NAME('ObservabilityStackDefinitionID', 'OBSERVABILITY STACK DEFINITION'), KRI, 'METRICS ENABLED=MetricsEnabled', 'LOGGING ENABLED=LoggingEnabled',
    REF_NAME('ObservabilityDashboardInstanceID', 'OBSERVABILITY DASHBOARD INSTANCE'), REF_NAME('MetricsInstanceID', 'MERTICS INSTANCE'),
    REF_NAME('LoggingInstanceID', 'LOGGING INSTANCE'), 'AGE=!age',
  ],
  TerraformDefinition: ['NAME=Name', 'AGE=!age'],
  TerraformInstance: ['NAME=Name', REF_NAME('TerraformDefinitionID', 'TERRAFORM DEFINITION'), REF_NAME('AwsAccountID', 'AWS ACCOUNT NAME'), 'STATUS=!status', 'AGE=!age'],
  ImageBuild: ['ID=ID', 'REPOSITORY=Repository', 'TAG=Tag', 'DIGEST=Digest', 'STATUS=!status', 'AGE=!age'],
  DeliveryPolicy: ['NAME=Name', 'ROLLOUT TIMEOUT=RolloutTimeoutSeconds', 'AGE=!age'],
  Delivery: ['NAME=Name', 'IMAGE=Image', REF_NAME('DeliveryPolicyID', 'DELIVERY POLICY'), 'ENVIRONMENT=Environment', 'PHASE=Phase', 'AGE=!age'],
  ImageUse: ['REPOSITORY=Repository', 'USED BY=UsedBy', 'AGE=!age'],
  Application: ['NAME=Name', 'RUNTIME=Placement.Name', 'STATUS=!status', 'AGE=!age'],
  ControlPlaneDefinition: ['NAME=Name', 'AUTH ENABLED=AuthEnabled', 'AGE=!age'],
  ControlPlaneInstance: ['NAME=Name', 'GENESIS CONTROL PLANE=Genesis', REF_NAME('ControlPlaneDefinitionID', 'CONTROL PLANE DEFINITION'), KRI, 'AGE=!age'],
};

/** Columns of `get <abstraction>s`: rows are the group's instances (NAME is the definition's). */
export const abstractionColumns: Readonly<Record<string, readonly string[]>> = {
  Workload: ['VERSION="v0', 'NAME=@WorkloadDefinitionID', REF_NAME('WorkloadDefinitionID', 'WORKLOAD DEFINITION'), 'WORKLOAD INSTANCE=Name', KRI, 'STATUS=!status', 'AGE=!age'],
  HelmWorkload: ['NAME=@HelmWorkloadDefinitionID', REF_NAME('HelmWorkloadDefinitionID', 'HELM WORKLOAD DEFINITION'), 'HELM WORKLOAD INSTANCE=Name', KRI, 'STATUS=!status', 'AGE=!age'],
  KubernetesRuntime: ['NAME=@KubernetesRuntimeDefinitionID', REF_NAME('KubernetesRuntimeDefinitionID', 'KUBERNETES RUNTIME DEFINITION'), 'KUBERNETES RUNTIME INSTANCE=Name', 'AGE=!age'],
  Gateway: ['NAME=@GatewayDefinitionID', REF_NAME('GatewayDefinitionID', 'GATEWAY DEFINITION'), 'GATEWAY INSTANCE=Name', 'AGE=!age'],
  DomainName: ['NAME=@DomainNameDefinitionID', REF_NAME('DomainNameDefinitionID', 'DOMAIN NAME DEFINITION'), 'DOMAIN NAME INSTANCE=Name', 'AGE=!age'],
  AwsEksKubernetesRuntime: [
    'NAME=@AwsEksKubernetesRuntimeDefinitionID', REF_NAME('AwsEksKubernetesRuntimeDefinitionID', 'AWS EKS KUBERNETES DEFINITION NAME'),
    'AWS EKS KUBERNETES INSTANCE NAME=Name', 'AGE=!age',
  ],
  AwsRelationalDatabase: ['NAME=Name', 'AGE=!age'],
  AwsObjectStorageBucket: [
    'NAME=@AwsObjectStorageBucketDefinitionID', REF_NAME('AwsObjectStorageBucketDefinitionID', 'AWS OBJECT STORAGE BUCKET DEFINITION'),
    'AWS OBJECT STORAGE BUCKET INSTANCE=Name', 'AGE=!age',
  ],
  Secret: ['NAME=Name', 'AGE=!age', WI],
  ObservabilityStack: [
    'NAME=@ObservabilityStackDefinitionID', REF_NAME('ObservabilityStackDefinitionID', 'OBSERVABILITY STACK DEFINITION'), 'OBSERVABILITY STACK INSTANCE=Name', 'AGE=!age',
  ],
  Terraform: ['NAME=@TerraformDefinitionID', REF_NAME('TerraformDefinitionID', 'TERRAFORM DEFINITION'), 'TERRAFORM INSTANCE=Name', REF_NAME('AwsAccountID', 'AWS ACCOUNT'), 'STATUS=!status', 'AGE=!age'],
  ControlPlane: [
    'NAME=@ControlPlaneDefinitionID', REF_NAME('ControlPlaneDefinitionID', 'CONTROL PLANE DEFINITION'), 'CONTROL PLANE INSTANCE=Name',
    'AUTH ENABLED=@ControlPlaneDefinitionID.AuthEnabled', 'GENESIS CONTROL PLANE=Genesis', KRI, 'AGE=!age',
  ],
};

/** Kinds without an entry: name, status when a controller reconciles them, age. */
export const defaultColumns = (reconcilable: boolean): readonly string[] => (reconcilable ? ['NAME=Name', 'STATUS=!status', 'AGE=!age'] : ['NAME=Name', 'AGE=!age']);
