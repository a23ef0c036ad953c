import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, opendir, readdir, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { z } from 'zod';
import type { Provenance } from '../../common/messages.js';
import type { ToolResult } from '../source.js';
import { defineTool, type Tool } from '../tool.js';
import { formatBytes, imageDimensions, kindOf, pdfText } from './file-content.js';
import { PathRefused, isInside, type FolderGrants, type GrantedPath } from './folder-grants.js';
import type { OwnerFiles } from './owner-files.js';
import type { Trash } from './trash.js';

export interface FileToolDeps {
  readonly grants: FolderGrants;
  readonly trash: Trash;
  readonly ownerFiles: OwnerFiles;
}

/** Caps: what one call may read, list, search or write. */
export const FILE_LIMITS = {
  readChars: 100_000,
  readBytes: 50 * 1024 * 1024,
  writeBytes: 5 * 1024 * 1024,
  listEntries: 500,
  searchEntries: 20_000,
  searchFileBytes: 2 * 1024 * 1024,
  searchMatches: 50,
} as const;

const path = z.string().min(1).max(4096).describe('A path inside a granted folder: absolute, "~/…", or relative to the first granted folder.');

const listInput = z.object({
  path: path.optional().describe('The folder to list; leave out to see which folders are granted.'),
  recursive: z.boolean().optional().describe('Also list sub-folders (up to the entry cap).'),
});
const readInput = z.object({
  path,
  maxChars: z.int().min(100).max(FILE_LIMITS.readChars).optional().describe(`At most this many characters of text; default ${FILE_LIMITS.readChars}.`),
});
const searchInput = z.object({
  path: path.describe('The folder to search in, with its sub-folders.'),
  query: z.string().min(1).max(200).describe('Text to find in file names and in text files (not case-sensitive).'),
  limit: z.int().min(1).max(FILE_LIMITS.searchMatches).optional(),
});
const writeInput = z.object({
  path,
  content: z.string().max(FILE_LIMITS.writeBytes).describe('The whole new contents of the file (UTF-8 text).'),
  overwrite: z.boolean().optional().describe('Replace the file if it exists; without it an existing file is left alone.'),
});
const moveInput = z.object({ from: path, to: path.describe('The new path, which must not exist yet.') });
const trashInput = z.object({ path: path.describe('The file or folder to move to the Trash.') });

/** The untrusted label of what a file (or a folder's names) says. */
function fileLabel(where: string): Provenance {
  return { kind: 'untrusted', source: 'file', detail: where };
}

function refused(error: unknown): ToolResult {
  if (error instanceof PathRefused) return { content: error.message, isError: true };
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return { content: 'That path is a symbolic link; Pavise does not follow links out of place. Use the path it points to, inside a granted folder.', isError: true };
  if (code === 'EISDIR') return { content: 'That path is a folder; use list_files for folders.', isError: true };
  throw error;
}

/** `list_files`, `read_file`, `search_files`, `write_file`, `move_file` and `trash_file`, inside the granted folders only. */
export function createFileTools(deps: FileToolDeps): readonly Tool[] {
  const { grants, trash, ownerFiles } = deps;

  const listFiles = defineTool({
    name: 'list_files',
    description: 'List a folder the owner granted (names, kinds, sizes, dates). Without a path, says which folders are granted.',
    input: listInput,
    effects: [{ kind: 'read_private', what: { template: 'your files' } }],
    summary: ['List the files in {path}', 'List the folders you granted'],
    output: { kind: 'per-result' },
    execute: async ({ path: asked, recursive }) => {
      if (asked === undefined) return { content: `Granted folders: ${await grants.describe()}.`, provenance: { kind: 'owner' } };
      try {
        const folder = await grants.existing(asked, 'read');
        const entries: string[] = [];
        let truncated = false;
        const visit = async (dir: string): Promise<void> => {
          for (const entry of await readdir(dir, { withFileTypes: true })) {
            if (entries.length >= FILE_LIMITS.listEntries) {
              truncated = true;
              return;
            }
            const full = join(dir, entry.name);
            const info = await lstat(full).catch(() => undefined);
            const kind = entry.isSymbolicLink() ? 'link' : entry.isDirectory() ? 'folder' : 'file';
            const size = kind === 'file' && info ? `, ${formatBytes(info.size)}` : '';
            const modified = info ? `, modified ${info.mtime.toISOString().slice(0, 16).replace('T', ' ')}` : '';
            entries.push(`${relative(folder.real, full)}${kind === 'folder' ? '/' : ''} (${kind}${size}${modified})`);
            if (recursive && entry.isDirectory()) await visit(full);
          }
        };
        await visit(folder.real);
        const head = `${folder.real}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${truncated ? ` (first ${FILE_LIMITS.listEntries} only)` : ''}`;
        return { content: [head, ...entries].join('\n'), provenance: fileLabel(`names in ${folder.real}`) };
      } catch (error) {
        return refused(error);
      }
    },
  });

  const readFile = defineTool({
    name: 'read_file',
    description: 'Read a file in a granted folder: text as it is, PDFs as their text, images and other binary files described by type and size.',
    input: readInput,
    effects: [{ kind: 'read_private', what: { template: 'the file {path}' } }],
    summary: 'Read {path}',
    output: { kind: 'per-result' },
    execute: async ({ path: asked, maxChars = FILE_LIMITS.readChars }) => {
      try {
        const granted = await grants.existing(asked, 'read');
        const { handle, stats } = await grants.openChecked(granted, constants.O_RDONLY, 'read');
        try {
          if (stats.isDirectory()) return { content: `${asked} is a folder; use list_files to see what is in it.`, isError: true };
          if (stats.size > FILE_LIMITS.readBytes) {
            return { content: `${asked} is ${formatBytes(stats.size)}, more than Pavise reads at once (${formatBytes(FILE_LIMITS.readBytes)}).`, isError: true };
          }
          const bytes = await handle.readFile();
          const label: Provenance = (await ownerFiles.isOwners(granted.real, bytes)) ? { kind: 'owner' } : fileLabel(granted.real);
          return { ...(await describeContent(granted.real, bytes, maxChars)), provenance: label };
        } finally {
          await handle.close();
        }
      } catch (error) {
        return refused(error);
      }
    },
  });

  const searchFiles = defineTool({
    name: 'search_files',
    description: 'Find files in a granted folder (and its sub-folders) whose name or text contains a phrase.',
    input: searchInput,
    effects: [{ kind: 'read_private', what: { template: 'your files' } }],
    summary: 'Search {path} for "{query}"',
    output: { kind: 'untrusted', source: 'file' },
    execute: async ({ path: asked, query, limit = 20 }) => {
      try {
        const folder = await grants.existing(asked, 'read');
        const needle = query.toLowerCase();
        const found: string[] = [];
        let seen = 0;
        const visit = async (dir: string): Promise<void> => {
          for await (const entry of await opendir(dir)) {
            if (found.length >= limit || seen >= FILE_LIMITS.searchEntries) return;
            seen++;
            const full = join(dir, entry.name);
            const where = relative(folder.real, full);
            // Links are never followed: a link may point out of the grants.
            if (entry.isDirectory()) {
              if (entry.name.toLowerCase().includes(needle)) found.push(`${where}/ (folder name)`);
              await visit(full);
            } else if (entry.isFile()) {
              if (entry.name.toLowerCase().includes(needle)) found.push(`${where} (file name)`);
              else {
                const line = await matchingLine(grants, full, needle);
                if (line !== undefined) found.push(`${where}: ${line}`);
              }
            }
          }
        };
        await visit(folder.real);
        const capped = seen >= FILE_LIMITS.searchEntries ? ` (stopped after ${FILE_LIMITS.searchEntries} entries)` : '';
        if (found.length === 0) return { content: `Nothing in ${folder.real} matches "${query}"${capped}.`, provenance: fileLabel(folder.real) };
        return { content: [`${found.length} match(es) in ${folder.real}${capped}:`, ...found].join('\n'), provenance: fileLabel(`search in ${folder.real}`) };
      } catch (error) {
        return refused(error);
      }
    },
  });

  const writeFile = defineTool({
    name: 'write_file',
    description: 'Write a UTF-8 text file in a folder granted for reading and writing. An existing file is replaced only with overwrite: true.',
    input: writeInput,
    effects: [{ kind: 'write_local', what: { template: 'Write the file {path}' }, path: { arg: 'path' } }],
    summary: 'Write the file {path}',
    output: { kind: 'trigger' },
    execute: async ({ path: asked, content, overwrite }, context) => {
      try {
        const target = await grants.creatable(asked, 'read-write');
        const exists = await lstat(target.real).then(
          (info) => info,
          () => undefined,
        );
        if (exists?.isDirectory()) return { content: `${asked} is a folder.`, isError: true };
        if (exists && overwrite !== true) return { content: `${asked} already exists; call again with overwrite: true to replace it.`, isError: true };
        const bytes = Buffer.from(content, 'utf8');
        await writeAtomically(grants, target, bytes);
        await ownerFiles.record(target.real, bytes, context.ownerDirected === true);
        return `Wrote ${formatBytes(bytes.length)} to ${target.real}.`;
      } catch (error) {
        return refused(error);
      }
    },
  });

  const moveFile = defineTool({
    name: 'move_file',
    description: 'Move or rename a file or folder; both places must be in folders granted for reading and writing.',
    input: moveInput,
    effects: [
      { kind: 'write_local', what: { template: 'Move {from} to {to}' }, path: { arg: 'to' } },
      { kind: 'write_local', what: { template: 'Move {from} away' }, path: { arg: 'from' } },
    ],
    summary: 'Move {from} to {to}',
    output: { kind: 'trigger' },
    execute: async ({ from, to }) => {
      try {
        const source = await grants.existing(from, 'read-write');
        if (isGrantRoot(source)) return { content: `${from} is a granted folder itself; it stays where it is.`, isError: true };
        const target = await grants.creatable(to, 'read-write');
        if (await lstat(target.real).then(() => true, () => false)) return { content: `${to} already exists; choose a new name.`, isError: true };
        if (isInside(target.real, source.real)) return { content: 'A folder cannot be moved into itself.', isError: true };
        await rename(source.real, target.real).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EXDEV') throw new PathRefused('The two places are on different disks; Pavise only renames within one disk.');
          throw error;
        });
        await ownerFiles.moved(source.real, target.real);
        return `Moved ${source.real} to ${target.real}.`;
      } catch (error) {
        return refused(error);
      }
    },
  });

  const trashFile = defineTool({
    name: 'trash_file',
    description: 'Move a file or folder in a read-write granted folder to the Trash, where the owner can restore it. Nothing is deleted for good.',
    input: trashInput,
    effects: [{ kind: 'delete', target: { arg: 'path' } }],
    summary: 'Move {path} to the Trash',
    output: { kind: 'trigger' },
    execute: async ({ path: asked }) => {
      try {
        const target = await grants.existing(asked, 'read-write');
        if (isGrantRoot(target)) return { content: `${asked} is a granted folder itself; Pavise does not trash it.`, isError: true };
        const trashed = await trash.put(target.real);
        await ownerFiles.record(target.real, undefined, false);
        return `Moved ${trashed.from} to the Trash (${trashed.to}); restore it from there.`;
      } catch (error) {
        return refused(error);
      }
    },
  });

  return [listFiles, readFile, searchFiles, writeFile, moveFile, trashFile] as readonly Tool[];
}

function isGrantRoot(granted: GrantedPath): boolean {
  return granted.real === granted.grant.real;
}

async function describeContent(real: string, bytes: Buffer, maxChars: number): Promise<{ content: string }> {
  const { kind, mime } = kindOf(bytes.subarray(0, 64));
  const name = basename(real);
  if (kind === 'image' && mime) {
    const size = imageDimensions(bytes.subarray(0, 64), mime);
    return { content: `${name}: an image (${mime}), ${formatBytes(bytes.length)}${size ? `, ${size.width}×${size.height} pixels` : ''}.` };
  }
  if (kind === 'binary') return { content: `${name}: a binary file, ${formatBytes(bytes.length)}; Pavise reads only text, PDFs and images.` };
  if (kind === 'pdf') {
    try {
      const pdf = await pdfText(bytes, maxChars);
      const cut = pdf.truncated ? ` (first ${maxChars} characters)` : '';
      return { content: `${name}: a PDF of ${pdf.pages} page(s)${cut}.\n${pdf.text}` };
    } catch (error) {
      return { content: `${name}: a PDF whose text could not be read (${error instanceof Error ? error.message : String(error)}).` };
    }
  }
  const text = bytes.toString('utf8');
  const cut = text.length > maxChars ? `\n[… ${text.length - maxChars} more characters not shown; the file is ${formatBytes(bytes.length)}]` : '';
  return { content: `${text.slice(0, maxChars)}${cut}` };
}

/** The first line of a text file that contains `needle`, opened through the grants' checks. */
async function matchingLine(grants: FolderGrants, real: string, needle: string): Promise<string | undefined> {
  try {
    const granted = await grants.existing(real, 'read');
    const { handle, stats } = await grants.openChecked(granted, constants.O_RDONLY, 'read');
    try {
      if (stats.size > FILE_LIMITS.searchFileBytes) return undefined;
      const bytes = await handle.readFile();
      if (kindOf(bytes.subarray(0, 64)).kind !== 'text') return undefined;
      const line = bytes
        .toString('utf8')
        .split('\n')
        .find((candidate) => candidate.toLowerCase().includes(needle));
      return line === undefined ? undefined : line.trim().slice(0, 200);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Writes next to the target under a private temporary name (created exclusively, never through a link), re-checks
 * that the folder is still inside the grant, then renames over the target: a reader never sees half a file.
 */
async function writeAtomically(grants: FolderGrants, target: GrantedPath, bytes: Buffer): Promise<void> {
  const temporary: GrantedPath = { ...target, real: join(dirname(target.real), `.${basename(target.real)}.pavise-${randomBytes(6).toString('hex')}.tmp`) };
  const { handle } = await grants.openChecked(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 'read-write', 0o644);
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const folderNow = await realpath(dirname(target.real));
    if (folderNow !== dirname(target.real) || !(await grants.allows(folderNow, 'read-write'))) {
      throw new PathRefused(`The folder of ${target.real} changed while writing; nothing was written.`);
    }
    await rename(temporary.real, target.real);
  } catch (error) {
    await rm(temporary.real, { force: true });
    throw error;
  }
}
