// ESLint: the typed rules that catch what tsc lets through (promises nobody awaits), and the
// import boundaries that keep the layers as ../shared/architecture.md draws them. Run by
// `npm run lint`, which the test command runs before the tests.
import tseslint from 'typescript-eslint';

const ALL = ['model', 'crypto', 'store', 'server', 'auth', 'client', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'];

/** What each folder of src/ may not import, and why. Everything else is allowed. */
const boundaries = {
  model: [ALL.filter((name) => name !== 'model'), 'the model is the spine: it depends on nothing else'],
  crypto: [ALL.filter((name) => name !== 'crypto'), 'the cipher stands alone'],
  store: [['server', 'client', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'the store knows only the model'],
  server: [['client', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'the API knows the store and the model'],
  // Who calls and what they may: certificates and keys (tptctl makes its own), identities from the store, the guard on the API's routes.
  auth: [['client', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'auth serves the API (and tptctl its keys); it calls nothing'],
  client: [['store', 'server', 'auth', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'the client talks to the API over HTTP only'],
  bus: [['server', 'client', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'the bus carries notifications, nothing more'],
  // Controllers and the agent never touch the database, and never call each other: the API is between them.
  controller: [['store', 'server', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'the controller runtime reaches objects through the API only'],
  controllers: [['store', 'server', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'controllers reach the database only through the API'],
  agent: [['store', 'server', 'controller', 'controllers', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'the agent reports to the API and reads clusters, nothing else'],
  platform: [['store', 'server', 'client', 'controller', 'controllers', 'agent', 'cli', 'control-plane', 'local-runtime', 'testbed'], 'platform adapters know their platform, not threeport'],
  // tptctl: the model, the API client and its own code. Platform adapters are for controllers and
  // the agent — but the kubeconfig reader, which `tptctl up --kubeconfig` needs too.
  cli: [['store', 'server', 'bus', 'controller', 'controllers', 'platform', 'agent', 'control-plane', 'testbed'], 'tptctl reaches the control plane through the API client', ['platform/kubernetes/kubeconfig.ts']],
  'local-runtime': [['store', 'server', 'client', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane', 'testbed'], 'the local runtime is a cluster and its tools, nothing of threeport'],
  testbed: [['store', 'server', 'client', 'bus', 'controller', 'controllers', 'platform', 'agent', 'cli', 'control-plane'], 'the test bed provides peers; it uses none of threeport'],
  'control-plane': [['cli', 'testbed'], 'process assembly does not use tptctl or the test bed'],
};

const importPatterns = (names) => names.flatMap((name) => [`**/${name}/*`, `**/${name}/**`, `../${name}`, `../../${name}`]);

/** The folder's restricted imports, but the files in `allowed` (paths under src/): those folders are matched by a regex that spares them. */
function restrictions(names, message, allowed) {
  const spared = (name) => allowed.filter((path) => path.startsWith(`${name}/`)).map((path) => path.slice(name.length + 1));
  const plain = names.filter((name) => spared(name).length === 0);
  const partial = names.filter((name) => spared(name).length > 0);
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    { group: importPatterns(plain), message },
    ...partial.map((name) => ({ regex: `(^|/)${escape(name)}(/(?!(${spared(name).map(escape).join('|')})$).*)?$`, message })),
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.testbed/**', 'coverage/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },
  ...Object.entries(boundaries).map(([folder, [names, message, allowed = []]]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: restrictions(names, message, allowed) }],
    },
  })),
);
