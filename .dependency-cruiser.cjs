// The layering the README draws, checked by `npm test` (npx depcruise server electron renderer
// --config .dependency-cruiser.cjs). Imports are read from the TypeScript sources with swc, so
// type-only imports count too (TypeScript 7 has no compiler API for dependency-cruiser to use).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'server-not-gui',
      comment: 'The server runs without Electron and without the GUI: server/ never imports electron/ or renderer/.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^(electron|renderer)/' },
    },
    {
      name: 'renderer-only-api',
      comment: 'The GUI talks to the server only through the API file (server/appliance/api.ts and its parts in api/).',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: '^server/', pathNot: '^server/appliance/api(\\.ts$|/)' },
    },
    {
      name: 'api-self-contained',
      comment: 'The API file is bundled into the GUI: it and its parts in api/ import nothing but each other, so no server code comes along.',
      severity: 'error',
      from: { path: '^server/appliance/api(\\.ts$|/)' },
      to: { pathNot: '^server/appliance/api(\\.ts$|/)' },
    },
    {
      name: 'protocol-not-engine',
      comment: 'The IMAP protocol layer and the wire formatting below it never import the Maildir engine.',
      severity: 'error',
      from: { path: '^server/(imap/protocol|wire)/' },
      to: { path: '^server/maildir/' },
    },
    {
      name: 'engine-not-imap',
      comment: 'The Maildir engine never imports the IMAP layer (it may use server/wire, which sits below both).',
      severity: 'error',
      from: { path: '^server/maildir/' },
      to: { path: '^server/imap/' },
    },
    {
      name: 'wire-below-imap',
      comment: 'server/wire sits below the IMAP layer: it never imports it.',
      severity: 'error',
      from: { path: '^server/wire/' },
      to: { path: '^server/imap/' },
    },
    {
      name: 'config-not-imap',
      comment: 'The configuration never imports the IMAP layer it configures.',
      severity: 'error',
      from: { path: '^server/config/' },
      to: { path: '^server/imap/' },
    },
    {
      name: 'mime-at-the-bottom',
      comment: 'The MIME parser imports nothing of the server above it.',
      severity: 'error',
      from: { path: '^server/mime/' },
      to: { path: '^(server|electron|renderer)/', pathNot: '^server/mime/' },
    },
    {
      name: 'no-cycles',
      comment:
        'No import cycles anywhere (the commands see the session through the SessionContext interface of ' +
        'server/imap/commands/types.ts, not through the Session class).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a broken import.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^dist/' },
    // Packages' "exports" maps (libmime/lib/charset.js), as Node resolves them for an ES module.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
