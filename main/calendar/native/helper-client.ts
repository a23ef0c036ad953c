import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CalendarEntity, CalendarResult } from '../../common/calendar.js';
import { SETTINGS_URLS } from '../../common/settings-urls.js';
import { runProcess } from '../../platform/run-process.js';
import { checkRequest, checkResponse, PROTOCOL_VERSION, type HelperOp, type HelperRequest, type HelperResponse, type HelperResults } from './protocol.js';

/**
 * The host's side of the calendar helper: each call spawns the fixed JXA script through run-process with a fixed
 * argv (`osascript -l JavaScript <script>`) and the request as JSON on stdin, and reads one JSON response, checked
 * against protocol.schema.json. Nothing the model wrote ever reaches argv or the script's text.
 */

export const HELPER_SCRIPT_NAME = 'calendar-helper.jxa.js';
const OSASCRIPT = '/usr/bin/osascript';
const TIMEOUT_MS = 30_000;
/** The owner may take a while to answer the macOS access prompt. */
const ACCESS_TIMEOUT_MS = 130_000;
/** A year of a busy calendar as JSON is a few MB; 20,000 events about 8 MB. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface HelperCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface NativeCalendarOptions {
  readonly platform?: NodeJS.Platform;
  /** How to start the helper; default `osascript -l JavaScript` with the script shipped beside the app. */
  readonly helper?: HelperCommand;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

type RequestOf<Op extends HelperOp> = Extract<HelperRequest, { op: Op }>;
type Params<Op extends HelperOp> = Omit<RequestOf<Op>, 'v' | 'op'>;

const PANES: Readonly<Record<CalendarEntity, { words: string; url: string }>> = {
  events: { words: 'Calendars', url: SETTINGS_URLS.calendars },
  contacts: { words: 'Contacts', url: SETTINGS_URLS.contacts },
};

export const NEEDS_MAC =
  'Calendar and Contacts need a Mac: Pavise reads them through macOS itself (EventKit and Contacts). ' +
  'Here, `pavise calendar events --ics FILE --from DATE --to DATE` reads an exported .ics file.';

/** Where the helper script is: beside the packaged app's resources, or in the repository's native/ folder. */
export function defaultHelperScript(resourcesPath: string | undefined = (process as { resourcesPath?: string }).resourcesPath): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    ...(resourcesPath ? [join(resourcesPath, HELPER_SCRIPT_NAME)] : []),
    join(here, '../../../native', HELPER_SCRIPT_NAME),
    join(here, '../../native', HELPER_SCRIPT_NAME),
    join(here, '../native', HELPER_SCRIPT_NAME),
  ];
  return candidates.find((path) => existsSync(path));
}

export class NativeCalendar {
  readonly #platform: NodeJS.Platform;
  readonly #helper: HelperCommand | undefined;
  readonly #asked = new Set<CalendarEntity>();

  constructor(private readonly options: NativeCalendarOptions = {}) {
    this.#platform = options.platform ?? process.platform;
    if (options.helper) this.#helper = options.helper;
    else if (this.#platform === 'darwin') {
      const script = defaultHelperScript();
      if (script) this.#helper = { command: OSASCRIPT, args: ['-l', 'JavaScript', script] };
    }
  }

  /** Whether calendar calls can work here at all (a Mac, or a helper the caller supplied). */
  get available(): boolean {
    return this.#helper !== undefined;
  }

  /**
   * One request. When macOS has never been asked for access to what the call needs, it asks once (the prompt names
   * Pavise) and retries; a refusal comes back as `no-access` naming the System Settings pane.
   */
  async call<Op extends HelperOp>(op: Op, params: Params<Op>, signal?: AbortSignal): Promise<CalendarResult<HelperResults[Op]>> {
    const first = await this.#send(op, params, signal);
    if (first.ok || first.code !== 'no-access' || !first.entity || this.#asked.has(first.entity)) return first;
    const entity = first.entity;
    this.#asked.add(entity);
    const status = await this.#send('status', {}, signal);
    if (!status.ok || status.value[entity] !== 'not-determined') return first;
    const asked = await this.#send('requestAccess', { entity }, signal, ACCESS_TIMEOUT_MS);
    if (!asked.ok || !asked.value.granted) return first;
    return this.#send(op, params, signal);
  }

  async #send<Op extends HelperOp>(op: Op, params: Params<Op>, signal: AbortSignal | undefined, timeoutMs?: number): Promise<CalendarResult<HelperResults[Op]>> {
    if (!this.#helper) return { ok: false, code: 'needs-mac', message: NEEDS_MAC };
    const request = { v: PROTOCOL_VERSION, op, ...params };
    const problems = checkRequest(request);
    if (problems.length > 0) return { ok: false, code: 'bad-request', message: `Not sent to the calendar: ${problems.join('; ')}.` };
    const run = await runProcess(this.#helper.command, this.#helper.args, {
      input: JSON.stringify(request),
      timeoutMs: timeoutMs ?? this.options.timeoutMs ?? TIMEOUT_MS,
      maxStdoutBytes: MAX_RESPONSE_BYTES,
      ...(signal ? { signal } : {}),
      ...(this.options.env ? { env: this.options.env } : {}),
    });
    if (!run.ok) {
      const detail = 'stderr' in run && run.stderr.trim() ? ` (${run.stderr.trim().split('\n')[0]})` : '';
      return { ok: false, code: 'failed', message: `The calendar helper did not answer: ${run.message}${detail}` };
    }
    let response: unknown;
    try {
      response = JSON.parse(run.value.stdout);
    } catch {
      return { ok: false, code: 'failed', message: 'The calendar helper answered something that is not JSON.' };
    }
    const wrong = checkResponse(op, response);
    if (wrong.length > 0) return { ok: false, code: 'failed', message: `The calendar helper broke the protocol: ${wrong.slice(0, 3).join('; ')}.` };
    const answer = response as HelperResponse<Op>;
    if (answer.ok) return { ok: true, value: answer.result };
    const { code, message, entity } = answer.error;
    if (code === 'no-access' && entity) {
      const pane = PANES[entity];
      return {
        ok: false,
        code,
        entity,
        message: `${message} Allow Pavise in System Settings › Privacy & Security › ${pane.words} (${pane.url}); Pavise's Settings › Channels › Calendar & Contacts has a button for it.`,
      };
    }
    return { ok: false, code, message, ...(entity ? { entity } : {}) };
  }
}
