import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Config } from '../common/config-schema.js';
import { loadConfig, parseConfig } from './config.js';

/** A change to config.json as the settings window makes it; only the fields given change. */
export interface ConfigPatch {
  readonly model?: { readonly provider: 'anthropic' | 'openai' | 'openai-compatible'; readonly name?: string; readonly baseURL?: string };
  readonly limits?: {
    readonly dailySpendUsd?: number;
    readonly perRecipientPerMinute?: number;
    readonly perRecipientPerHour?: number;
    readonly overallPerHour?: number;
    readonly approvalTimeoutMinutes?: number;
  };
  readonly imessageOwners?: readonly string[];
  /** MCP servers by name: an object replaces that server's entry in `mcp.servers`, null removes it. */
  readonly mcpServers?: Readonly<Record<string, Readonly<Record<string, unknown>> | null>>;
  readonly folders?: readonly { readonly path: string; readonly access?: 'read' | 'read-write' | undefined }[];
  readonly httpHosts?: readonly string[];
  readonly mailAccounts?: readonly Readonly<Record<string, unknown>>[];
  /** null removes Home Assistant. */
  readonly homeAssistantUrl?: string | null;
  readonly shortcuts?: readonly string[];
  readonly readOnlyCommands?: readonly string[];
}

type RawConfig = Record<string, Record<string, unknown>>;

/**
 * config.json on disk: read and validated, and changed only by writing a validated whole file next to it and
 * renaming it into place (0600), so a bad edit or a crash never leaves a broken or half-written file.
 */
export class ConfigStore {
  constructor(readonly path: string) {}

  /** The saved config; throws a ConfigError that names the problem when the file is invalid. */
  read(): Config {
    return loadConfig(this.path);
  }

  /** Applies the patch to the saved file, keeping every field it does not name. Throws a ConfigError when invalid. */
  update(patch: ConfigPatch): void {
    const raw = JSON.parse(this.#text() || '{}') as RawConfig;
    if (patch.model) raw.model = { ...(raw.model ?? {}), ...patch.model };
    if (patch.limits) {
      const { dailySpendUsd, perRecipientPerMinute, perRecipientPerHour, overallPerHour, approvalTimeoutMinutes } = patch.limits;
      const limits = { ...(raw.limits ?? {}) };
      if (dailySpendUsd !== undefined) limits.dailySpendUsd = dailySpendUsd;
      const pacing = { ...((limits.pacing as Record<string, unknown> | undefined) ?? {}) };
      if (perRecipientPerMinute !== undefined) pacing.perRecipientPerMinute = perRecipientPerMinute;
      if (perRecipientPerHour !== undefined) pacing.perRecipientPerHour = perRecipientPerHour;
      if (overallPerHour !== undefined) pacing.overallPerHour = overallPerHour;
      if (Object.keys(pacing).length > 0) limits.pacing = pacing;
      raw.limits = limits;
      if (approvalTimeoutMinutes !== undefined) raw.permissions = { ...(raw.permissions ?? {}), approvalTimeoutMinutes };
    }
    if (patch.imessageOwners) {
      const channels = { ...(raw.channels ?? {}) } as RawConfig;
      channels.imessage = { ...(channels.imessage ?? {}), owners: patch.imessageOwners };
      raw.channels = channels;
    }
    if (patch.mcpServers) {
      const servers = { ...((raw.mcp?.servers as Record<string, unknown> | undefined) ?? {}) };
      for (const [name, entry] of Object.entries(patch.mcpServers)) {
        if (entry === null) delete servers[name];
        else servers[name] = entry;
      }
      raw.mcp = { ...(raw.mcp ?? {}), servers };
    }
    if (patch.folders) raw.files = { ...(raw.files ?? {}), folders: patch.folders };
    if (patch.httpHosts) raw.web = { ...(raw.web ?? {}), httpHosts: patch.httpHosts };
    if (patch.readOnlyCommands) raw.terminal = { ...(raw.terminal ?? {}), readOnlyCommands: patch.readOnlyCommands };
    if (patch.mailAccounts) raw.mail = { ...(raw.mail ?? {}), accounts: patch.mailAccounts };
    if (patch.homeAssistantUrl !== undefined || patch.shortcuts) {
      const home = { ...(raw.home ?? {}) };
      if (patch.homeAssistantUrl === null) delete home.assistant;
      else if (patch.homeAssistantUrl !== undefined) home.assistant = { ...((home.assistant as Record<string, unknown> | undefined) ?? {}), url: patch.homeAssistantUrl };
      if (patch.shortcuts) home.shortcuts = patch.shortcuts;
      raw.home = home;
    }
    const text = `${JSON.stringify(raw, null, 2)}\n`;
    parseConfig(text, this.path); // refuses anything invalid before it is written; nothing is lost on a bad edit
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  #text(): string {
    try {
      return readFileSync(this.path, 'utf8').replace(/^\uFEFF/, '');
    } catch {
      return '';
    }
  }
}
