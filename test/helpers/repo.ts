import { fileURLToPath } from 'node:url'

/** The repository root, found from the compiled helper in `dist/test/helpers/`. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** The compiled CLI entry point. */
export const cliPath = fileURLToPath(new URL('../../../dist/appliance/cli.js', import.meta.url))

/** A file of the source tree (scripts that tsc does not copy to `dist/`). */
export function sourcePath (relative: string): string {
  return fileURLToPath(new URL(relative, new URL('../../../', import.meta.url)))
}
