#!/usr/bin/env node
// `node build/require-node.mjs 22.12`: stops a packaging step on an older Node with a plain
// reason. electron-builder 26's @electron/rebuild and node-abi need Node 22.12; the server, the
// GUI and the tests run on Node 20.19 (package.json "engines").
const [major, minor] = (process.argv[2] ?? '0.0').split('.').map(Number);
const [haveMajor, haveMinor] = process.versions.node.split('.').map(Number);
if (haveMajor < major || (haveMajor === major && haveMinor < minor)) {
  console.error(`Packaging needs Node ${major}.${minor} or newer (electron-builder's rebuild tools require it); this is Node ${process.versions.node}.`);
  process.exit(1);
}
