export { Terraform, TerraformError, terraformReason, type ApplyResult, type TerraformOptions, type TerraformOutput, type TerraformRun } from './terraform.ts';
