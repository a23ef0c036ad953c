import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FolderGrant } from '../../common/config-schema.js';
import type { FileToolDeps } from './file-tools.js';
import { FolderGrants } from './folder-grants.js';
import { OwnerFiles } from './owner-files.js';
import { freedesktopTrash, macTrash } from './trash.js';

/** The file tools' parts for one home: the owner's grants, this platform's Trash, and the owner-files record. */
export function fileToolDeps(options: {
  readonly folders: readonly FolderGrant[];
  readonly ownerFilesPath: string;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
}): FileToolDeps {
  const home = options.env.HOME && options.env.HOME.length > 0 ? options.env.HOME : homedir();
  const dataHome = options.env.XDG_DATA_HOME && options.env.XDG_DATA_HOME.length > 0 ? options.env.XDG_DATA_HOME : join(home, '.local', 'share');
  return {
    grants: new FolderGrants(options.folders, home),
    trash: options.platform === 'darwin' ? macTrash(home) : freedesktopTrash(dataHome),
    ownerFiles: new OwnerFiles(options.ownerFilesPath),
  };
}
