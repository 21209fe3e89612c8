/** How to build or install one pinned tool into its folder of the cache. */
export interface ToolRecipe {
  name: string;
  version: string;
  /** Bumped when the recipe changes in a way that needs a rebuild at the same version. */
  revision: number;
  /** Executables the recipe leaves in `binDir`. */
  binaries: string[];
  needs: 'go' | 'python';
  /** Rough first-build time on 2 idle cores, said when the build starts. */
  coldSeconds: number;
  build(binDir: string, workDir: string, toolDir: string): Promise<void>;
}
