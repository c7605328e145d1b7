import * as plugins from './plugins.js';

/** The package's own directory (one up from dist_ts/ or ts/), whatever the caller's cwd. */
export const packageDir = plugins.path.join(
  plugins.path.dirname(plugins.url.fileURLToPath(import.meta.url)),
  '..',
);

export const distRustDir = plugins.path.join(packageDir, 'dist_rust');
export const rustTargetDir = plugins.path.join(packageDir, 'rust', 'target');
