// Lint for cnm: typescript-eslint's recommended rules, prettier for format, and the layer order of src/ (README
// "Architecture"), so that an import against the order fails `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import prettier from 'eslint-config-prettier';

/**
 * The layers of src/, lowest first. A module may import its own folder and the layers below its own, never a
 * sibling in its layer (but as alsoAllowed says) nor anything above; src/wiring.ts, the composition root, is imported
 * by the entry point (src/cli/main.ts) alone.
 */
const layers = [
  ['core'],
  ['netlink', 'ipam', 'store', 'firewall', 'owner'],
  ['sandbox', 'endpoint', 'network'],
  ['cluster', 'drivers'],
  ['engine'],
  ['plugin', 'runner', 'dns', 'diagnose'],
  ['cli'],
];

/** Within a layer, the modules a module may also import. */
const alsoAllowed = {
  // the vxlan driver syncs through the cluster module; cluster itself never sees a driver
  drivers: ['cluster'],
};

const zones = layers.flatMap((layer, i) => {
  const below = layers.slice(0, i).flat();
  return layer.map((mod) => ({
    target: `./src/${mod}`,
    from: './src',
    except: [`./${mod}`, ...below, ...(alsoAllowed[mod] ?? [])].map((m) => (m.startsWith('./') ? m : `./${m}`)),
    message: `${mod}/ is in layer ${i} (${layer.join(', ')}): it may import ${[...below, ...(alsoAllowed[mod] ?? [])].join(', ') || 'nothing else in src'}`,
  }));
});

// Drivers own their logic: the vxlan driver composes the bridge driver through an interface (src/drivers/driver.ts),
// never its internals, and the router dispatches through the contract alone.
const driverZones = [
  {
    target: './src/drivers/vxlan',
    from: './src/drivers/bridge',
    message: 'the vxlan driver uses the bridge driver through LocalBridge (src/drivers/driver.ts)',
  },
  { target: './src/drivers/bridge', from: './src/drivers/vxlan', message: 'the bridge driver does not know the vxlan driver' },
  { target: './src/drivers/router.ts', from: './src/drivers/*/**', message: 'the router dispatches through the driver contract only' },
  // above the drivers, only their contract (src/drivers/*.ts) is visible: no record keys, no driver internals
  ...['bridge', 'vxlan'].map((d) => ({
    target: ['./src/engine', './src/plugin', './src/runner', './src/cli'],
    from: `./src/drivers/${d}`,
    // the Docker plugin maps `-o` options onto the vxlan driver's own option parser
    except: d === 'vxlan' ? ['./options.ts'] : [],
    message: `use the ${d} driver through the driver contract (src/drivers/driver.ts, src/drivers/router.ts), not its internals`,
  })),
];

const restrictedPaths = (extra = [], entry = false) => [
  'error',
  {
    zones: [...zones.map((z) => (entry && z.target === './src/cli' ? { ...z, except: [...z.except, './wiring.ts'] } : z)), ...driverZones, ...extra],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/helpers/count-reporter.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { import: importPlugin },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' }, node: true },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'import/no-cycle': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // lazy loading: a module only some commands need is required where it is needed, synchronously
      // (`require(...) as typeof import(...)`), so that nothing else waits on it
      '@typescript-eslint/no-require-imports': 'off',
      'import/no-restricted-paths': restrictedPaths([
        { target: './src', from: './src/wiring.ts', except: [], message: 'only the entry point (src/cli/main.ts) imports the composition root' },
      ]),
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='stderr']",
          message: 'library code logs through the injected logger; only src/cli writes to stderr',
        },
        { selector: "CallExpression[callee.object.name='process'][callee.property.name='emitWarning']", message: 'log through the injected logger' },
      ],
    },
  },
  {
    // the CLI talks to a person; the entry point builds the composition root
    files: ['src/cli/**/*.ts', 'src/wiring.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/cli/main.ts'],
    rules: { 'import/no-restricted-paths': restrictedPaths([], true) },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
