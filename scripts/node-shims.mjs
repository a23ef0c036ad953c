// esbuild aliases shared by every Node bundle (the CLI and the Electron main process): dependencies of
// dependencies that Node now provides itself. See the comments in scripts/shims/.
import { fileURLToPath } from 'node:url';

export const NODE_SHIMS = {
  'node-fetch': fileURLToPath(new URL('./shims/node-fetch.cjs', import.meta.url)),
  'abort-controller': fileURLToPath(new URL('./shims/abort-controller.cjs', import.meta.url)),
};
