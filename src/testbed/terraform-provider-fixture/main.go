// A small Terraform provider for threeport's tests, built into the test bed's cache and served to
// the real terraform binary from a filesystem mirror (HashiCorp's providers are out of reach here).
// Its one resource, fixture_file, writes a file: something real that plan, apply, update and
// destroy change, and that a test can look at.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &fixtureProvider{} }, providerserver.ServeOpts{
		Address: "registry.terraform.io/threeport/fixture",
	})
	if err != nil {
		panic(err)
	}
}

type fixtureProvider struct{}

func (p *fixtureProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "fixture"
	resp.Version = "0.1.0"
}

func (p *fixtureProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{}
}

func (p *fixtureProvider) Configure(_ context.Context, _ provider.ConfigureRequest, _ *provider.ConfigureResponse) {
}

func (p *fixtureProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &fileResource{} }}
}

func (p *fixtureProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return nil
}

type fileResource struct{}

type fileModel struct {
	ID      types.String `tfsdk:"id"`
	Path    types.String `tfsdk:"path"`
	Content types.String `tfsdk:"content"`
	SHA256  types.String `tfsdk:"sha256"`
}

func (r *fileResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_file"
}

func (r *fileResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A file with the given content.",
		Attributes: map[string]schema.Attribute{
			"id":      schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"path":    schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"content": schema.StringAttribute{Required: true},
			"sha256":  schema.StringAttribute{Computed: true},
		},
	}
}

func digest(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

func (r *fileResource) write(model *fileModel) error {
	if err := os.MkdirAll(filepath.Dir(model.Path.ValueString()), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(model.Path.ValueString(), []byte(model.Content.ValueString()), 0o644); err != nil {
		return err
	}
	model.ID = model.Path
	model.SHA256 = types.StringValue(digest(model.Content.ValueString()))
	return nil
}

// save writes the file the plan describes and records it in the state (create and update alike).
func (r *fileResource) save(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var model fileModel
	diags.Append(plan.Get(ctx, &model)...)
	if diags.HasError() {
		return
	}
	if err := r.write(&model); err != nil {
		diags.AddError("cannot write the file", err.Error())
		return
	}
	diags.Append(state.Set(ctx, &model)...)
}

func (r *fileResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.save(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *fileResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var model fileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	content, err := os.ReadFile(model.Path.ValueString())
	if os.IsNotExist(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("cannot read the file", err.Error())
		return
	}
	model.Content = types.StringValue(string(content))
	model.SHA256 = types.StringValue(digest(string(content)))
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

func (r *fileResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.save(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *fileResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var model fileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := os.Remove(model.Path.ValueString()); err != nil && !os.IsNotExist(err) {
		resp.Diagnostics.AddError("cannot remove the file", err.Error())
	}
}

var _ resource.Resource = &fileResource{}
