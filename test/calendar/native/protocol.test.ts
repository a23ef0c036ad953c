import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import schema from '../../../main/calendar/native/protocol.schema.json' with { type: 'json' };
import { NativeCalendar, NEEDS_MAC } from '../../../main/calendar/native/helper-client.js';
import { checkRequest, checkResponse, HELPER_OPS, type HelperOp } from '../../../main/calendar/native/protocol.js';
import { runHelperScript, type FakeStore } from '../../fakes/objc-bridge.js';
import { fakeHelperHome, sampleStore, SCRIPT, type FakeHelperHome } from './fake-store.js';

/**
 * The protocol between the host and the calendar helper, pinned from both sides by protocol.schema.json: the real
 * JXA script (under the mocked bridge) answers every op with a response the schema accepts, and the host sends only
 * requests the schema accepts, through run-process with osascript's argv, and refuses answers it does not.
 */

const SAMPLE_REQUESTS: Readonly<Record<HelperOp, Record<string, unknown>>> = {
  status: { v: 1, op: 'status' },
  requestAccess: { v: 1, op: 'requestAccess', entity: 'contacts' },
  listCalendars: { v: 1, op: 'listCalendars' },
  listEvents: { v: 1, op: 'listEvents', from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00Z', calendars: ['Work', 'Home'] },
  getEvent: { v: 1, op: 'getEvent', id: 'ev-invite' },
  createEvent: {
    v: 1, op: 'createEvent', title: 'Lunch', start: '2026-12-05T12:00:00Z', end: '2026-12-05T13:00:00Z', timeZone: 'Europe/London', allDay: false,
    calendar: 'Home', location: 'Café', notes: 'bring the book', attendees: ['friend@example.net'],
  },
  moveEvent: { v: 1, op: 'moveEvent', id: 'ev-dentist', start: '2026-12-03T11:00:00Z', end: '2026-12-03T12:00:00Z', timeZone: 'Europe/London' },
  deleteEvent: { v: 1, op: 'deleteEvent', id: 'ev-dentist' },
  respondToInvitation: { v: 1, op: 'respondToInvitation', id: 'ev-invite', response: 'accepted' },
  listContacts: { v: 1, op: 'listContacts' },
};

function helper(state: FakeStore, request: unknown): { ok: boolean; result?: unknown; error?: { code: string; message: string; entity?: string } } {
  return JSON.parse(runHelperScript(state, JSON.stringify(request))) as never;
}

describe('the helper side (native/calendar-helper.jxa.js under the mocked bridge)', () => {
  it('the schema covers every op, and each sample request is valid', () => {
    expect(HELPER_OPS.sort()).toEqual(Object.keys(SAMPLE_REQUESTS).sort());
    expect(Object.keys(schema.responses).sort()).toEqual([...HELPER_OPS, 'error'].sort());
    for (const request of Object.values(SAMPLE_REQUESTS)) expect(checkRequest(request)).toEqual([]);
  });

  it.each(Object.entries(SAMPLE_REQUESTS))('answers %s with a response the schema accepts', (op, request) => {
    const state = { ...sampleStore(), grantOnRequest: { events: true, contacts: true } };
    const response = helper(state, request);
    expect(response.error).toBeUndefined();
    expect(response.ok).toBe(true);
    expect(checkResponse(op as HelperOp, response)).toEqual([]);
  });

  it('reads events with UTC instants, calendars, organiser, attendees and the owner\'s own answer', () => {
    const response = helper(sampleStore(), SAMPLE_REQUESTS.listEvents) as { result: { events: { id: string; organizer?: unknown; myStatus?: string; calendar: string }[] } };
    const invite = response.result.events.find((event) => event.id === 'ev-invite');
    expect(invite).toMatchObject({ calendar: 'Work', start: '2026-12-04T10:00:00.000Z', myStatus: 'pending', organizer: { email: 'organiser@partner.test', isCurrentUser: false } });
    expect(response.result.events.map((event) => event.id)).toEqual(['ev-dentist', 'ev-board', 'ev-invite']);
  });

  it('reads contacts: localized labels, birthdays without a year, relations, shared cards, and notes only when readable', () => {
    const readable = helper(sampleStore(), SAMPLE_REQUESTS.listContacts) as { result: { contacts: { id: string; birthday?: string; relations: unknown[]; shared: boolean; note?: string; phones: { label: string }[] }[]; notesReadable: boolean; me: string } };
    expect(readable.result.me).toBe('c-me');
    expect(readable.result.notesReadable).toBe(true);
    const byId = new Map(readable.result.contacts.map((contact) => [contact.id, contact]));
    expect(byId.get('c-jane')).toMatchObject({ birthday: '1960-05-04', shared: false, phones: [{ label: 'mobile', value: '07700 900123' }] });
    expect(byId.get('c-me')?.relations).toEqual([{ label: 'mother', value: 'Jane Owner' }]);
    expect(byId.get('c-vendor')).toMatchObject({ shared: true, note: expect.stringContaining('IMPORTANT') });
    const withoutEntitlement = helper({ ...sampleStore(), notesNeedEntitlement: true }, SAMPLE_REQUESTS.listContacts) as { result: { contacts: { note?: string }[]; notesReadable: boolean } };
    expect(withoutEntitlement.result.notesReadable).toBe(false);
    expect(withoutEntitlement.result.contacts.every((contact) => contact.note === undefined)).toBe(true);
  });

  it('refuses without access, naming which, in the error shape of the schema', () => {
    const state = { ...sampleStore(), access: { events: 2, contacts: 0 } };
    for (const [op, entity] of [['listEvents', 'events'], ['createEvent', 'events'], ['listContacts', 'contacts']] as const) {
      const response = helper(state, SAMPLE_REQUESTS[op]);
      expect(response).toMatchObject({ ok: false, error: { code: 'no-access', entity } });
      expect(checkResponse(op, response)).toEqual([]);
    }
    expect(helper({ ...sampleStore(), access: { events: 4, contacts: 3 } }, SAMPLE_REQUESTS.listEvents).error?.message).toContain('write-only');
  });

  it('answers bad input with bad-request, not-found or unsupported, and changes nothing', () => {
    const state = sampleStore();
    const before = JSON.stringify(state.events);
    const cases: [unknown, string][] = [
      [{ v: 2, op: 'status' }, 'bad-request'],
      [{ v: 1, op: 'openCalendarApp' }, 'bad-request'],
      [{ v: 1, op: 'getEvent', id: 'nope' }, 'not-found'],
      [{ ...SAMPLE_REQUESTS.listEvents, calendars: ['Nope'] }, 'not-found'],
      [{ ...SAMPLE_REQUESTS.createEvent, timeZone: 'Mars/Olympus' }, 'bad-request'],
      [{ ...SAMPLE_REQUESTS.createEvent, calendar: 'UK Holidays' }, 'unsupported'],
      [{ ...SAMPLE_REQUESTS.deleteEvent, id: 'ev-holiday' }, 'unsupported'],
      [{ ...SAMPLE_REQUESTS.respondToInvitation, id: 'ev-dentist' }, 'not-found'],
    ];
    for (const [request, code] of cases) {
      const response = helper(state, request);
      expect(response.error?.code, JSON.stringify(request)).toBe(code);
      expect(checkResponse('status', response)).toEqual([]);
    }
    expect(JSON.stringify(state.events)).toBe(before);
    expect(JSON.parse(runHelperScript(state, 'not json'))).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('creates nothing when attendees cannot be invited, and says when an answer to an invitation did not stick', () => {
    const noClass = { ...sampleStore(), noAttendeeClass: true };
    expect(helper(noClass, SAMPLE_REQUESTS.createEvent).error?.code).toBe('unsupported');
    expect(noClass.events).toHaveLength(4);
    const ignored = { ...sampleStore(), responsesIgnored: true };
    expect(helper(ignored, SAMPLE_REQUESTS.respondToInvitation).error).toMatchObject({ code: 'unsupported', message: expect.stringContaining('open the invitation in Calendar') });
  });

  it('works without BridgeSupport constants: enum values and contact keys fall back to their values', () => {
    const state = { ...sampleStore(), noBridgeSupport: true };
    for (const request of [SAMPLE_REQUESTS.listEvents, SAMPLE_REQUESTS.listContacts, SAMPLE_REQUESTS.createEvent]) {
      const response = helper(state, request);
      expect(response.error, JSON.stringify(request)).toBeUndefined();
    }
    const contacts = helper(state, SAMPLE_REQUESTS.listContacts) as { result: { contacts: { id: string; name: string }[] } };
    expect(contacts.result.contacts.find((card) => card.id === 'c-jane')?.name).toBe('Jane Owner');
  });

  it('asks for full access the macOS 14 way, and the older way before 14', () => {
    for (const macos of ['14.5.0', '13.6.1']) {
      const state = { ...sampleStore(), macos, access: { events: 0, contacts: 3 }, grantOnRequest: { events: true, contacts: true } };
      expect(helper(state, { v: 1, op: 'requestAccess', entity: 'events' })).toEqual({ ok: true, result: { granted: true } });
      expect(state.access.events).toBe(3);
    }
    const source = readFileSync(SCRIPT, 'utf8');
    expect(source).toContain('requestFullAccessToEventsWithCompletion');
  });

  it('is a fixed script over EventKit and Contacts: no Calendar.app scripting, no eval, no shell', () => {
    const source = readFileSync(SCRIPT, 'utf8');
    expect(source).not.toMatch(/Application\(|doShellScript|\beval\(|new Function|NSTask|NSAppleScript/);
    const bridge: string[] = [];
    runHelperScript(sampleStore(), JSON.stringify({ v: 1, op: 'status' }));
    for (const match of source.matchAll(/ObjC\.import\('(\w+)'\)/g)) bridge.push(match[1] ?? '');
    expect(bridge).toEqual(['Foundation', 'EventKit', 'Contacts']);
  });
});

describe('the host side (NativeCalendar through run-process and the fake osascript)', () => {
  let home: FakeHelperHome | undefined;
  afterEach(() => home?.close());

  it('sends schema-valid requests on stdin with osascript\'s argv and reads the answer', async () => {
    home = fakeHelperHome();
    const listed = await home.calendar.call('listEvents', { from: '2026-12-01T00:00:00.000Z', to: '2026-12-31T00:00:00.000Z' });
    expect(listed.ok && listed.value.events.map((event) => event.id)).toEqual(['ev-dentist', 'ev-board', 'ev-invite', 'ev-holiday']);
    const created = await home.calendar.call('createEvent', { title: 'Lunch "quoted" $(rm -rf ~)', start: '2026-12-05T12:00:00.000Z', end: '2026-12-05T13:00:00.000Z', timeZone: 'Europe/London', allDay: false });
    expect(created.ok && created.value.event.title).toBe('Lunch "quoted" $(rm -rf ~)');
    const log = readFileSync(home.logPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { argv: string[] });
    expect(log.map((entry) => entry.argv)).toEqual([['-l', 'JavaScript', SCRIPT], ['-l', 'JavaScript', SCRIPT]]);
    for (const request of home.requests()) expect(checkRequest(request)).toEqual([]);
  });

  it('refuses a request the schema does not accept without starting the helper', async () => {
    home = fakeHelperHome();
    const result = await home.calendar.call('listEvents', { from: 'tomorrow', to: '2026-12-31T00:00:00.000Z' });
    expect(result).toMatchObject({ ok: false, code: 'bad-request', message: expect.stringContaining('request.from') });
    expect(home.requests()).toEqual([]);
  });

  it('on Linux without a helper every call says it needs a Mac', async () => {
    const calendar = new NativeCalendar({ platform: 'linux' });
    expect(calendar.available).toBe(false);
    expect(await calendar.call('status', {})).toEqual({ ok: false, code: 'needs-mac', message: NEEDS_MAC });
  });

  it('missing access names the System Settings pane; never-asked access is asked once, then the call is retried', async () => {
    home = fakeHelperHome({ ...sampleStore(), access: { events: 2, contacts: 3 } });
    const denied = await home.calendar.call('listEvents', { from: '2026-12-01T00:00:00.000Z', to: '2026-12-31T00:00:00.000Z' });
    expect(denied).toMatchObject({ ok: false, code: 'no-access', entity: 'events', message: expect.stringContaining('x-apple.systempreferences:com.apple.preference.security?Privacy_Calendars') });
    home.close();
    home = fakeHelperHome({ ...sampleStore(), access: { events: 3, contacts: 0 }, grantOnRequest: { events: false, contacts: true } });
    const contacts = await home.calendar.call('listContacts', {});
    expect(contacts.ok).toBe(true);
    expect(home.requests().map((request) => (request as { op: string }).op)).toEqual(['listContacts', 'status', 'requestAccess', 'listContacts']);
  });

  it('a helper that breaks the protocol, prints garbage or dies is a clear failure', async () => {
    const node = process.execPath;
    const answers = [
      ['-e', 'process.stdout.write(JSON.stringify({ ok: true, result: { events: [{ id: 1 }], truncated: false } }))'],
      ['-e', 'process.stdout.write("Calendar says hello")'],
      ['-e', 'process.exit(3)'],
    ];
    const messages = [];
    for (const args of answers) {
      const calendar = new NativeCalendar({ platform: 'darwin', helper: { command: node, args } });
      const result = await calendar.call('listEvents', { from: '2026-12-01T00:00:00.000Z', to: '2026-12-31T00:00:00.000Z' });
      expect(result.ok).toBe(false);
      messages.push(result.ok ? '' : result.message);
    }
    expect(messages[0]).toContain('broke the protocol');
    expect(messages[1]).toContain('not JSON');
    expect(messages[2]).toContain('did not answer');
  });
});
