/**
 * What a box allows, as a list of rules that each platform renders one for one: bwrap arguments on Linux
 * (`bwrap-args.ts`), a sandbox-exec profile on macOS (`seatbelt-profile.ts`). Paths are absolute and the same
 * inside the box as outside, so a grant means the same thing on both.
 */
export type SandboxRule =
  | { readonly kind: 'system'; readonly path: string }
  | { readonly kind: 'read'; readonly path: string }
  | { readonly kind: 'write'; readonly path: string }
  | { readonly kind: 'temp'; readonly path: string }
  | { readonly kind: 'exec'; readonly path: string }
  | { readonly kind: 'devices' }
  | { readonly kind: 'no-network' }
  /**
   * The owner granted network for this one box (a terminal command approved "with network access"). All or nothing:
   * bwrap can share the host's network namespace or not, and the macOS profile can allow outbound traffic or not;
   * neither can limit it to one host, so the gate treats such a box as able to reach any server (policy.ts).
   */
  | { readonly kind: 'network' }
  | { readonly kind: 'no-listen' }
  | { readonly kind: 'isolated-processes' }
  | { readonly kind: 'processes'; readonly fork: boolean };

export interface RuleInput {
  readonly systemPaths: readonly string[];
  readonly executables: readonly string[];
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
  readonly tempDir: string;
  readonly allowFork: boolean;
  /** Share the host's network (granted per call by the owner); absent or false: the box has none. */
  readonly network?: boolean;
}

/** The rules for one box, in the order both renderers apply them (later binds win on Linux). */
export function sandboxRules(input: RuleInput): SandboxRule[] {
  return [
    ...input.systemPaths.map((path) => ({ kind: 'system', path }) as const),
    { kind: 'devices' },
    ...input.executables.map((path) => ({ kind: 'exec', path }) as const),
    ...input.readOnly.map((path) => ({ kind: 'read', path }) as const),
    ...input.readWrite.map((path) => ({ kind: 'write', path }) as const),
    { kind: 'temp', path: input.tempDir },
    input.network === true ? { kind: 'network' } : { kind: 'no-network' },
    { kind: 'no-listen' },
    { kind: 'isolated-processes' },
    { kind: 'processes', fork: input.allowFork },
  ];
}
