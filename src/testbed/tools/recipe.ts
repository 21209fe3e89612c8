/** How to build or install one pinned tool into its folder of the cache. */
export interface ToolRecipe {
  name: string;
  version: string;
  /** Bumped when the recipe changes in a way that needs a rebuild at the same version. */
  revision: number;
  /** Executables the recipe leaves in `binDir`. */
  binaries: string[];
  needs: 'go' | 'python';
  /** Said when the build starts, so a cold machine knows what it is waiting for. */
  coldEstimate: string;
  build(binDir: string, workDir: string, toolDir: string): Promise<void>;
}
