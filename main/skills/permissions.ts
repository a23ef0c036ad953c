import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** What a skill asks for and what the owner granted: the same shape, the grant a subset of the request. */
export interface SkillPermissions {
  /** Host names its requests through the broker may reach (exact names, no wildcards). */
  readonly network: readonly string[];
  /** Folders or files: relative to the skill's folder (read only), `~/…` or absolute. */
  readonly files: readonly { readonly path: string; readonly access: 'read' | 'write' }[];
  /** Secret names whose `{{secret:NAME}}` handles the broker fills as a request leaves. */
  readonly secrets: readonly string[];
  /** Programs (absolute paths) it may run. */
  readonly binaries: readonly string[];
}

export const NO_PERMISSIONS: SkillPermissions = { network: [], files: [], secrets: [], binaries: [] };

/** One permission as the owner reads and names it: `network:api.open-meteo.com`, `read:~/Notes`, `secret:NAME`, `binary:/usr/bin/git`. */
export function permissionIds(permissions: SkillPermissions): string[] {
  return [
    ...permissions.network.map((host) => `network:${host}`),
    ...permissions.files.map((file) => `${file.access}:${file.path}`),
    ...permissions.secrets.map((name) => `secret:${name}`),
    ...permissions.binaries.map((path) => `binary:${path}`),
  ];
}

/** The part of `requested` whose ids are in `ids`; an id that was not requested is an error (nothing can be added). */
export function grantOnly(requested: SkillPermissions, ids: readonly string[]): { ok: true; value: SkillPermissions } | { ok: false; message: string } {
  const known = new Set(permissionIds(requested));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    return { ok: false, message: `Not asked for by this skill, so it cannot be granted: ${unknown.join(', ')}. It asks for: ${[...known].join(', ') || 'nothing'}.` };
  }
  const wanted = new Set(ids);
  return {
    ok: true,
    value: {
      network: requested.network.filter((host) => wanted.has(`network:${host}`)),
      files: requested.files.filter((file) => wanted.has(`${file.access}:${file.path}`)),
      secrets: requested.secrets.filter((name) => wanted.has(`secret:${name}`)),
      binaries: requested.binaries.filter((path) => wanted.has(`binary:${path}`)),
    },
  };
}

/** A stored grant read back; anything malformed grants nothing. */
export function parseGrant(value: unknown): SkillPermissions {
  if (!value || typeof value !== 'object') return NO_PERMISSIONS;
  const raw = value as Record<string, unknown>;
  const strings = (list: unknown) => (Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : []);
  const files = Array.isArray(raw.files)
    ? raw.files.filter(
        (file): file is { path: string; access: 'read' | 'write' } =>
          !!file && typeof file === 'object' && typeof (file as { path?: unknown }).path === 'string' && ['read', 'write'].includes((file as { access?: unknown }).access as string),
      )
    : [];
  return { network: strings(raw.network), files, secrets: strings(raw.secrets), binaries: strings(raw.binaries) };
}

/**
 * Where a file permission points on this machine, or undefined when it cannot be honoured: a relative path must
 * stay inside the skill's own folder, and only `~/…` and absolute paths can be written.
 */
export function resolvePermissionPath(path: string, skillDir: string, access: 'read' | 'write'): string | undefined {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  if (isAbsolute(path)) return resolve(path);
  if (access === 'write') return undefined;
  const inside = resolve(skillDir, path);
  const rel = relative(skillDir, inside);
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : inside;
}

/**
 * The first granted binary that is not a program file, said as a reason, or undefined. The box makes a program
 * runnable by binding its path, so a folder granted as a binary (`binary:/`, the home) would be readable in full
 * behind a grant that reads "may run".
 */
export function binaryProblem(binaries: readonly string[]): string | undefined {
  for (const path of binaries) {
    let file = false;
    try {
      file = statSync(path).isFile();
    } catch {
      return `the program ${path} it may run does not exist`;
    }
    if (!file) return `${path} is not a program; only a program file can be granted to run (a folder would expose everything in it)`;
  }
  return undefined;
}

/**
 * Why a folder granted for writing may not be used, or undefined: it is Pavise's own folder (its database, config
 * and installed skills), inside it, or holds it. A skill or MCP server that could write there could rewrite its
 * reviewed files and their pinned hash, widen its own grant in the database or add a server to config.json.
 */
export function writeGrantProblem(writable: readonly string[], protectedDirs: readonly string[]): string | undefined {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  for (const granted of writable) {
    const path = real(granted);
    const home = protectedDirs.map(real).find((dir) => inside(path, dir) || inside(dir, path));
    if (home !== undefined) return `the write grant ${granted} covers Pavise's own folder ${home} (its database, config and installed skills), which nothing boxed may change`;
  }
  return undefined;
}
