import { posix } from 'node:path';
import { z } from 'zod';
import { EFFECT_KINDS } from '../common/effects.js';
import type { EffectTemplate, SummaryTemplate } from '../tools/source.js';
import type { SkillPermissions } from './permissions.js';

/**
 * The skill format: a folder with SKILL.md (the open Agent Skills format: front matter `name`, `description`,
 * optional `license`, `compatibility`, `metadata`, `allowed-tools`, then instructions) and, for a code skill,
 * `pavise.json` beside it (its tools, the command that serves them, and the permissions it asks for). OpenClaw's
 * `metadata.openclaw` requirements (`requires.bins`, `requires.env`, `os`) are read so such skills say what they need.
 */

export const SKILL_FILE = 'SKILL.md';
export const PAVISE_FILE = 'pavise.json';
export const SKILL_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_NAME = 48;

export interface SkillTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly effects: readonly EffectTemplate[];
  readonly summary: SummaryTemplate;
}

export interface SkillManifest {
  readonly name: string;
  readonly description: string;
  readonly license?: string;
  readonly author?: string;
  readonly compatibility?: string;
  readonly allowedTools: readonly string[];
  /** The instructions: SKILL.md after its front matter. */
  readonly instructions: string;
  /** Present for a code skill (pavise.json), absent for an instructions-only one. */
  readonly code?: {
    /** `node` (the runtime Pavise runs on) or a path relative to the skill's folder. */
    readonly runtime: string;
    /** Arguments after the runtime, relative to the skill's folder where they name its files. */
    readonly args: readonly string[];
    readonly tools: readonly SkillTool[];
    readonly limits: { readonly cpuSeconds?: number; readonly memoryBytes?: number; readonly callTimeoutMs?: number };
  };
  readonly permissions: SkillPermissions;
  /** Said by OpenClaw metadata: operating systems it supports (`darwin`, `linux`, `win32`), empty when any. */
  readonly os: readonly string[];
}

const hostName = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, 'a lower-case host name such as api.example.com (no scheme, port or wildcard)');
/** A program's absolute path as it will be bound, written plainly: no `..`, `.`, `//` or trailing `/` to read past in review. */
const programPath = z
  .string()
  .startsWith('/', 'an absolute path')
  .refine((path) => posix.normalize(path) === path && !path.endsWith('/'), 'a plain absolute path to a program (no "..", ".", "//" or trailing "/")');
const secretName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a secret name of lower-case letters, digits, . _ -');

const valueTemplate = z.union([z.object({ arg: z.string() }).strict(), z.object({ template: z.string() }).strict(), z.object({ hostOf: z.string() }).strict()]);
const effectTemplate = z.looseObject({ kind: z.enum(EFFECT_KINDS as [string, ...string[]]) }).refine(
  (effect) => Object.entries(effect).every(([key, value]) => key === 'kind' || valueTemplate.safeParse(value).success),
  'each effect field must be { "arg" }, { "template" } or { "hostOf" }',
);

const paviseJson = z
  .object({
    runtime: z
      .string()
      .min(1)
      .refine((runtime) => runtime === 'node' || (!runtime.startsWith('/') && !runtime.split(/[\\/]/).includes('..')), '"node", or a program inside the skill\'s folder')
      .default('node'),
    args: z.array(z.string()).default([]),
    tools: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,31}$/, 'letters, digits, _ and -, at most 32'),
            description: z.string().min(1),
            inputSchema: z.record(z.string(), z.unknown()),
            effects: z.array(effectTemplate),
            summary: z.union([z.string(), z.array(z.string()).min(1)]),
          })
          .strict(),
      )
      .default([])
      .superRefine((tools, context) => {
        // One name, two tools: the host would register one descriptor and route calls by name to either.
        const seen = new Set<string>();
        for (const tool of tools) {
          if (seen.has(tool.name)) context.addIssue({ code: 'custom', message: `"${tool.name}" is named twice; each tool needs a name of its own` });
          seen.add(tool.name);
        }
      }),
    permissions: z
      .object({
        network: z.array(hostName).default([]),
        files: z.array(z.object({ path: z.string().min(1), access: z.enum(['read', 'write']) }).strict()).default([]),
        secrets: z.array(secretName).default([]),
        binaries: z.array(programPath).default([]),
      })
      .strict()
      .default({ network: [], files: [], secrets: [], binaries: [] }),
    limits: z
      .object({
        cpuSeconds: z.number().int().positive().max(600).optional(),
        memoryBytes: z.number().int().min(700 * 1024 * 1024).max(8 * 1024 * 1024 * 1024).optional(),
        callTimeoutMs: z.number().int().positive().max(600_000).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

const frontMatter = z.looseObject({
  name: z.string(),
  description: z.string().min(1, 'a description is required'),
  license: z.string().optional(),
  compatibility: z.string().optional(),
  'allowed-tools': z.union([z.string(), z.array(z.string())]).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export class SkillFormatError extends Error {
  override readonly name = 'SkillFormatError';
}

/** Splits SKILL.md into its YAML front matter and body. */
export function splitFrontMatter(text: string): { readonly yaml: string; readonly body: string } {
  const match = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!match) throw new SkillFormatError(`${SKILL_FILE} must start with front matter between two "---" lines (name, description).`);
  return { yaml: match[1] ?? '', body: match[2] ?? '' };
}

/** Reads a skill's SKILL.md and optional pavise.json text into its manifest, or throws a SkillFormatError saying what to fix. */
export async function parseManifest(skillMd: string, paviseText: string | undefined): Promise<SkillManifest> {
  const { yaml, body } = splitFrontMatter(skillMd);
  const { load, JSON_SCHEMA } = await import('js-yaml');
  let data: unknown;
  try {
    data = load(yaml, { schema: JSON_SCHEMA });
  } catch (error) {
    throw new SkillFormatError(`${SKILL_FILE}'s front matter is not valid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  const front = frontMatter.safeParse(data);
  if (!front.success) throw new SkillFormatError(`${SKILL_FILE}'s front matter: ${describe(front.error)}`);
  const name = front.data.name;
  if (!SKILL_NAME.test(name) || name.length > MAX_NAME) {
    throw new SkillFormatError(`${SKILL_FILE}: the name "${name}" must be lower-case letters, digits and single hyphens, at most ${MAX_NAME} characters (e.g. "weather").`);
  }
  const metadata = front.data.metadata ?? {};
  const openclaw = (metadata.openclaw ?? {}) as { requires?: { bins?: unknown; env?: unknown }; os?: unknown };
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : []);
  const allowed = front.data['allowed-tools'];
  let code: SkillManifest['code'];
  // OpenClaw's lists are kept only where they can mean what they say here: a program by plain absolute path (a bare
  // `curl` cannot be bound into a box; `/` or `/usr/bin/../..` would read as less than it grants) and a secret name.
  let permissions: SkillPermissions = {
    network: [],
    files: [],
    secrets: list(openclaw.requires?.env).map((name) => name.toLowerCase()).filter((name) => secretName.safeParse(name).success),
    binaries: list(openclaw.requires?.bins).filter((path) => programPath.safeParse(path).success),
  };
  if (paviseText !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(paviseText);
    } catch (error) {
      throw new SkillFormatError(`${PAVISE_FILE} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = paviseJson.safeParse(json);
    if (!parsed.success) throw new SkillFormatError(`${PAVISE_FILE}: ${describe(parsed.error)}`);
    const { runtime, args, tools, limits } = parsed.data;
    code = { runtime, args, tools: tools as unknown as SkillTool[], limits: definedOnly(limits) };
    const asked = parsed.data.permissions;
    permissions = {
      network: asked.network,
      files: asked.files,
      secrets: [...new Set([...asked.secrets, ...permissions.secrets])],
      binaries: [...new Set([...asked.binaries, ...permissions.binaries])],
    };
  }
  const author = typeof metadata.author === 'string' ? metadata.author : undefined;
  return {
    name,
    description: front.data.description,
    ...(front.data.license !== undefined ? { license: front.data.license } : {}),
    ...(author !== undefined ? { author } : {}),
    ...(front.data.compatibility !== undefined ? { compatibility: front.data.compatibility } : {}),
    allowedTools: typeof allowed === 'string' ? allowed.split(/\s+/).filter(Boolean) : (allowed ?? []),
    instructions: body.trim(),
    ...(code ? { code } : {}),
    permissions,
    os: list(openclaw.os),
  };
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`).join('; ');
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
