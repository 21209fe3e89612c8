module threeport.test/terraform-provider-fixture

go 1.24

require github.com/hashicorp/terraform-plugin-framework v1.19.0
