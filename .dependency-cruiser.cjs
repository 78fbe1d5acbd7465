/**
 * The layers of src/, top to bottom (docs/DESIGN.md, "Layers"): a folder imports only folders of
 * the layers below its own, so no two folders import each other and any folder can be read with
 * what is under it alone. `npm run check` runs this; a new import against the order fails it, and
 * so does a cycle between modules anywhere in src, tools, test or bin.
 */
const layers = [
  ['(root)', 'cli', 'testing'],
  ['temporal'],
  ['activities', 'wiring'],
  ['reconciler'],
  ['deps', 'stack'],
  ['client', 'slots', 'agent-server'],
  ['agent', 'store'],
  ['workflows', 'temporal-api', 'tracing', 'db', 'payload-codec'],
  ['contract', 'config', 'alerts', 'metrics', 'temporal-prerequisites'],
  ['domain', 'util', 'temporal-connection'],
];

const folderPath = (folder) => (folder === '(root)' ? '^src/[^/]+$' : `^src/${folder}/`);

const layerRules = layers.flatMap((layer, index) =>
  layer.map((folder) => {
    const notBelow = layers
      .slice(0, index + 1)
      .flat()
      .filter((other) => other !== folder);
    return {
      name: `layer-of-${folder.replace(/[()]/g, '')}`,
      comment: `src/${folder} may import only folders of the layers below its own (${layers
        .slice(index + 1)
        .flat()
        .join(', ')})`,
      severity: 'error',
      from: { path: folderPath(folder) },
      to: { path: notBelow.map(folderPath).join('|') },
    };
  }),
);

const everyFolder = layers.flat().filter((folder) => folder !== '(root)');

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'folder-in-a-layer',
      comment: 'every folder of src/ has its place in the layers above: add a new one there',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/[^/]+$', ...everyFolder.map(folderPath)] },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other, directly or through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^node_modules/'] },
    // Type-only imports count: a layer that needs another's types depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['source', 'import', 'require', 'node', 'default'] },
  },
};
