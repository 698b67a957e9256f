// The repository's root, found from this file: the nearest directory above it that holds
// package.json. The tests run from their sources (tsx) and, in `npm test`, compiled under
// dist/tests/, so a fixed '../..' would name the wrong directory in one of the two.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function repositoryRoot(from: string): string {
  for (let dir = path.dirname(fileURLToPath(from)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = repositoryRoot(import.meta.url);

/**
 * A module beside the calling one (`from` is its import.meta.url; `relative` without extension),
 * for a child process: the compiled .js when the caller runs compiled, else the .ts source,
 * which needs tsx's loader (nodeArgs).
 */
export function sibling(from: string, relative: string): { file: string; nodeArgs: string[] } {
  const compiled = from.endsWith('.js');
  const file = fileURLToPath(new URL(`${relative}.${compiled ? 'js' : 'ts'}`, from));
  return { file, nodeArgs: compiled ? [] : ['--import', 'tsx'] };
}
