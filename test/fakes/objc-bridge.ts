import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';

/**
 * A stand-in for JXA's Objective-C bridge (`ObjC`, `$`) over an in-memory EventKit and Contacts, so the real
 * native/calendar-helper.jxa.js runs under Node. It keeps the bridge's habits that a script can get wrong: strings
 * come back wrapped (read them with ObjC.unwrap or `.js`), nil is undefined, collections are NSArrays (`count`,
 * `objectAtIndex`), dates are NSDates, errors are filled into a `$()` out-parameter, and the access status is an
 * integer. Erasable TypeScript only: test/fakes/fake-osascript-jxa.mjs loads it with Node's type stripping.
 */

export interface FakeParticipant {
  email: string;
  name?: string;
  isCurrentUser?: boolean;
  status?: 'unknown' | 'pending' | 'accepted' | 'declined' | 'tentative';
}

export interface FakeEvent {
  id: string;
  calendarId: string;
  title: string;
  start: string;
  end: string;
  allDay?: boolean;
  timeZone?: string;
  location?: string;
  notes?: string;
  organizer?: FakeParticipant;
  attendees?: FakeParticipant[];
  recurring?: boolean;
}

export interface FakeContact {
  id: string;
  givenName?: string;
  familyName?: string;
  nickname?: string;
  organization?: string;
  phones?: { label: string; value: string }[];
  emails?: { label: string; value: string }[];
  relations?: { label: string; value: string }[];
  birthday?: { year?: number; month: number; day: number };
  note?: string;
  container?: string;
}

export interface FakeStore {
  macos?: string;
  access: { events: number; contacts: number };
  /** What a request for access answers (and then becomes the status: 3 when granted, else 2). */
  grantOnRequest?: { events: boolean; contacts: boolean };
  calendars: { id: string; title: string; writable: boolean; account: string; isDefault?: boolean; subscribed?: boolean; /** EKCalendarType when not implied by `subscribed` (4: birthdays). */ type?: number }[];
  events: FakeEvent[];
  contacts: FakeContact[];
  defaultContainer?: string;
  containers?: string[];
  me?: string;
  /** macOS 13+ without the notes entitlement: asking for CNContactNoteKey fails. */
  notesNeedEntitlement?: boolean;
  /** The private EKAttendee class is missing. */
  noAttendeeClass?: boolean;
  /** Frameworks without BridgeSupport: `$` has no enum values or key constants. */
  noBridgeSupport?: boolean;
  /** Answers to invitations do not stick (what EventKit may do). */
  responsesIgnored?: boolean;
  /** Every mutating call, in order, for tests to read. */
  journal?: { op: string; id: string; detail?: unknown }[];
  nextId?: number;
}

const STATUS = ['unknown', 'pending', 'accepted', 'declined', 'tentative'];

class NSString {
  js: string;
  constructor(js: string) {
    this.js = js;
  }
}

const ns = (value: string | undefined) => (value === undefined ? undefined : new NSString(value));
const plain = (value: unknown): unknown => (value instanceof NSString ? value.js : value);

class NSArray<T> {
  readonly items: T[];
  constructor(items: T[]) {
    this.items = items;
  }
  get count() {
    return this.items.length;
  }
  objectAtIndex(index: number): T {
    if (index < 0 || index >= this.items.length) throw new Error(`NSRangeException: index ${index} beyond bounds`);
    return this.items[index] as T;
  }
}

class NSDate {
  timeIntervalSince1970: number;
  constructor(seconds: number) {
    this.timeIntervalSince1970 = seconds;
  }
}

class ErrorRef {
  localizedDescription: NSString | undefined;
}

function timeZoneValid(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function participant(data: FakeParticipant) {
  const object = {
    URL: { absoluteString: ns(`mailto:${data.email}`) },
    name: ns(data.name),
    isCurrentUser: Boolean(data.isCurrentUser),
    participantStatus: STATUS.indexOf(data.status ?? 'pending'),
    data,
    setValueForKey(value: unknown, key: string) {
      if (key !== 'participantStatus') throw new Error(`NSUnknownKeyException: ${key}`);
      object.participantStatus = Number(value);
    },
  };
  return object;
}

/** Creates `ObjC` and `$` over `state`; mutations change `state` in place. */
export function createBridge(state: FakeStore, stdin: string) {
  state.journal ??= [];
  const calendarObject = (id: string) => {
    const calendar = state.calendars.find((item) => item.id === id);
    if (!calendar) return undefined;
    return {
      calendarIdentifier: ns(calendar.id),
      title: ns(calendar.title),
      allowsContentModifications: calendar.writable,
      source: { title: ns(calendar.account), sourceType: calendar.subscribed ? 5 : 2 },
      type: calendar.type ?? (calendar.subscribed ? 3 : 1),
      id: calendar.id,
    };
  };

  class EKEvent {
    data: FakeEvent;
    stored: boolean;
    attendeeObjects: ReturnType<typeof participant>[];
    pendingAttendees: { email: string }[] | undefined;
    constructor(data: FakeEvent, stored: boolean) {
      this.data = data;
      this.stored = stored;
      this.attendeeObjects = (data.attendees ?? []).map(participant);
    }
    static eventWithEventStore() {
      return new EKEvent({ id: '', calendarId: '', title: '', start: '', end: '' }, false);
    }
    get eventIdentifier() {
      return this.data.id ? ns(this.data.id) : undefined;
    }
    get title() {
      return ns(this.data.title);
    }
    set title(value: unknown) {
      this.data.title = String(plain(value));
    }
    get startDate() {
      return new NSDate(Date.parse(this.data.start) / 1000);
    }
    set startDate(value: NSDate) {
      this.data.start = new Date(value.timeIntervalSince1970 * 1000).toISOString();
    }
    get endDate() {
      return new NSDate(Date.parse(this.data.end) / 1000);
    }
    set endDate(value: NSDate) {
      this.data.end = new Date(value.timeIntervalSince1970 * 1000).toISOString();
    }
    get allDay() {
      return Boolean(this.data.allDay);
    }
    set allDay(value: boolean) {
      this.data.allDay = Boolean(value);
    }
    get timeZone(): { name: NSString | undefined } | undefined {
      return this.data.timeZone ? { name: ns(this.data.timeZone) } : undefined;
    }
    set timeZone(value: { name: NSString | undefined } | undefined) {
      this.data.timeZone = value?.name?.js;
    }
    get location() {
      return ns(this.data.location);
    }
    set location(value: unknown) {
      this.data.location = String(plain(value));
    }
    get notes() {
      return ns(this.data.notes);
    }
    set notes(value: unknown) {
      this.data.notes = String(plain(value));
    }
    get calendar() {
      return calendarObject(this.data.calendarId);
    }
    set calendar(value: { id: string } | undefined) {
      this.data.calendarId = value?.id ?? '';
    }
    get organizer() {
      return this.data.organizer ? participant(this.data.organizer) : undefined;
    }
    get attendees() {
      return this.attendeeObjects.length > 0 ? new NSArray(this.attendeeObjects) : undefined;
    }
    get hasRecurrenceRules() {
      return Boolean(this.data.recurring);
    }
    setValueForKey(value: NSArray<{ email: string }>, key: string) {
      if (key !== 'attendees') throw new Error(`NSUnknownKeyException: ${key}`);
      const list: { email: string }[] = [];
      for (let index = 0; index < value.count; index++) list.push(value.objectAtIndex(index));
      this.pendingAttendees = list;
    }
  }

  const eventStore = {
    calendarsForEntityType: () => new NSArray(state.calendars.map((calendar) => calendarObject(calendar.id))),
    get defaultCalendarForNewEvents() {
      const chosen = state.calendars.find((calendar) => calendar.isDefault) ?? state.calendars.find((calendar) => calendar.writable);
      return chosen ? calendarObject(chosen.id) : undefined;
    },
    predicateForEventsWithStartDateEndDateCalendars(start: NSDate, end: NSDate, calendars: NSArray<{ id: string }> | null) {
      const ids = calendars ? Array.from({ length: calendars.count }, (_, index) => calendars.objectAtIndex(index).id) : undefined;
      return { from: start.timeIntervalSince1970 * 1000, to: end.timeIntervalSince1970 * 1000, ids };
    },
    eventsMatchingPredicate(predicate: { from: number; to: number; ids: string[] | undefined }) {
      const found = state.events.filter(
        (event) => Date.parse(event.start) < predicate.to && Date.parse(event.end) > predicate.from && (!predicate.ids || predicate.ids.includes(event.calendarId)),
      );
      found.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      return new NSArray(found.map((event) => new EKEvent(event, true)));
    },
    eventWithIdentifier(id: unknown) {
      const data = state.events.find((event) => event.id === plain(id));
      return data ? new EKEvent(data, true) : undefined;
    },
    saveEventSpanCommitError(event: EKEvent, _span: number, _commit: boolean, error: ErrorRef) {
      if (!event.data.calendarId || Date.parse(event.data.end) < Date.parse(event.data.start)) {
        error.localizedDescription = ns('The start date must be before the end date.');
        return false;
      }
      if (event.pendingAttendees) {
        event.attendeeObjects = event.pendingAttendees.map((attendee) => participant({ email: attendee.email, status: 'pending' }));
        event.pendingAttendees = undefined;
      }
      const attendees = event.attendeeObjects.map((object) =>
        state.responsesIgnored ? object.data : { ...object.data, status: (STATUS[object.participantStatus] ?? 'unknown') as FakeParticipant['status'] },
      );
      if (attendees.length > 0) event.data.attendees = attendees;
      else delete event.data.attendees;
      if (!event.stored) {
        state.nextId = (state.nextId ?? 0) + 1;
        event.data.id = `created-${state.nextId}`;
        state.events.push(event.data);
        event.stored = true;
        event.attendeeObjects = (event.data.attendees ?? []).map(participant);
        state.journal?.push({ op: 'create', id: event.data.id, detail: structuredClone(event.data) });
      } else {
        state.journal?.push({ op: 'save', id: event.data.id, detail: structuredClone(event.data) });
      }
      return true;
    },
    removeEventSpanCommitError(event: EKEvent) {
      state.events = state.events.filter((item) => item.id !== event.data.id);
      state.journal?.push({ op: 'remove', id: event.data.id });
      return true;
    },
    requestFullAccessToEventsWithCompletion(done: (granted: boolean) => void) {
      const granted = state.grantOnRequest?.events ?? false;
      state.access.events = granted ? 3 : 2;
      done(granted);
    },
  };

  const labelName = (label: string) => /^_\$!<(.+)>!\$_$/.exec(label)?.[1]?.toLowerCase() ?? label;
  const labelled = <T>(items: { label: string; value: string }[] | undefined, wrap: (value: string) => T) =>
    items && items.length > 0 ? new NSArray(items.map((item) => ({ label: ns(item.label), value: wrap(item.value) }))) : undefined;
  const contactObject = (contact: FakeContact, keys: string[]) => {
    const require = (key: string) => {
      if (!keys.includes(key)) throw new Error(`CNPropertyNotFetchedException: ${key} was not fetched`);
    };
    return {
      get identifier() {
        return ns(contact.id);
      },
      get givenName() {
        require('givenName');
        return ns(contact.givenName ?? '');
      },
      get familyName() {
        require('familyName');
        return ns(contact.familyName ?? '');
      },
      get nickname() {
        require('nickname');
        return ns(contact.nickname ?? '');
      },
      get organizationName() {
        require('organizationName');
        return ns(contact.organization ?? '');
      },
      get phoneNumbers() {
        require('phoneNumbers');
        return labelled(contact.phones, (value) => ({ stringValue: ns(value) })) ?? new NSArray([]);
      },
      get emailAddresses() {
        require('emailAddresses');
        return labelled(contact.emails, ns) ?? new NSArray([]);
      },
      get contactRelations() {
        require('contactRelations');
        return labelled(contact.relations, (value) => ({ name: ns(value) })) ?? new NSArray([]);
      },
      get birthday() {
        require('birthday');
        const birthday = contact.birthday;
        return birthday ? { year: birthday.year ?? Number.MAX_SAFE_INTEGER, month: birthday.month, day: birthday.day } : undefined;
      },
      get note() {
        require('note');
        return ns(contact.note ?? '');
      },
    };
  };
  const keyNames = (keys: NSArray<NSString | string>) => Array.from({ length: keys.count }, (_, index) => String(plain(keys.objectAtIndex(index))));
  const contactStore = {
    get defaultContainerIdentifier() {
      return ns(state.defaultContainer ?? 'local');
    },
    containersMatchingPredicateError() {
      const ids = state.containers ?? [state.defaultContainer ?? 'local'];
      return new NSArray(ids.map((id) => ({ identifier: ns(id) })));
    },
    unifiedContactsMatchingPredicateKeysToFetchError(predicate: { container: string }, keys: NSArray<NSString | string>, error: ErrorRef) {
      const names = keyNames(keys);
      if (state.notesNeedEntitlement && names.includes('note')) {
        error.localizedDescription = ns('Access to the note field requires an entitlement.');
        return undefined;
      }
      const inContainer = state.contacts.filter((contact) => (contact.container ?? state.defaultContainer ?? 'local') === predicate.container);
      return new NSArray(inContainer.map((contact) => contactObject(contact, names)));
    },
    unifiedMeContactWithKeysToFetchError() {
      return state.me ? { identifier: ns(state.me) } : undefined;
    },
    requestAccessForEntityTypeCompletionHandler(_type: number, done: (granted: boolean) => void) {
      const granted = state.grantOnRequest?.contacts ?? false;
      state.access.contacts = granted ? 3 : 2;
      done(granted);
    },
  };

  const attendeeClass = {
    alloc: {
      get init() {
        const attendee = { email: '', setValueForKey: (value: unknown, key: string) => {
          if (key !== 'emailAddress') throw new Error(`NSUnknownKeyException: ${key}`);
          attendee.email = String(plain(value));
        } };
        return attendee;
      },
    },
  };

  const [major = 14, minor = 0, patch = 0] = (state.macos ?? '14.5.0').split('.').map(Number);
  const classes: Record<string, unknown> = {
    NSUTF8StringEncoding: 4,
    NSFileHandle: { fileHandleWithStandardInput: { readDataToEndOfFile: { bytes: stdin } } },
    NSString: { alloc: { initWithDataEncoding: (data: { bytes: string }) => ns(data.bytes) } },
    NSProcessInfo: { processInfo: { operatingSystemVersion: { majorVersion: major, minorVersion: minor, patchVersion: patch } } },
    NSRunLoop: { currentRunLoop: { runUntilDate: () => undefined } },
    NSDate: {
      dateWithTimeIntervalSince1970: (seconds: number) => new NSDate(seconds),
      dateWithTimeIntervalSinceNow: (seconds: number) => new NSDate(Date.now() / 1000 + seconds),
    },
    NSTimeZone: { timeZoneWithName: (name: unknown) => (timeZoneValid(String(plain(name))) ? { name: ns(String(plain(name))) } : undefined) },
    NSClassFromString: (name: string) => (name === 'EKAttendee' && !state.noAttendeeClass ? attendeeClass : undefined),
    EKEntityTypeEvent: 0,
    EKSpanThisEvent: 0,
    EKEventStore: {
      authorizationStatusForEntityType: () => state.access.events,
      alloc: { get init() {
        // macOS 13 and older have only the one-kind request.
        if (major >= 14) return eventStore;
        const { requestFullAccessToEventsWithCompletion: _missing, ...older } = eventStore;
        return { ...older, requestAccessToEntityTypeCompletion: (_type: number, done: (granted: boolean) => void) => eventStore.requestFullAccessToEventsWithCompletion(done) };
      } },
    },
    EKEvent,
    CNEntityTypeContacts: 0,
    CNContactStore: { authorizationStatusForEntityType: () => state.access.contacts, alloc: { init: contactStore } },
    CNContact: { predicateForContactsInContainerWithIdentifier: (id: unknown) => ({ container: plain(id) }) },
    CNLabeledValue: { localizedStringForLabel: (label: unknown) => ns(labelName(String(plain(label)))) },
  };
  // Contacts' key constants are these strings in the framework too.
  const keyValues: Record<string, string> = {
    Identifier: 'identifier', GivenName: 'givenName', FamilyName: 'familyName', Nickname: 'nickname', OrganizationName: 'organizationName',
    PhoneNumbers: 'phoneNumbers', EmailAddresses: 'emailAddresses', Birthday: 'birthday', Relations: 'contactRelations', Note: 'note',
  };
  for (const [key, value] of Object.entries(keyValues)) classes[`CNContact${key}Key`] = new NSString(value);
  if (state.noBridgeSupport) {
    for (const name of Object.keys(classes)) if (/^(CNContact\w+Key|EKEntityTypeEvent|EKSpanThisEvent|CNEntityTypeContacts|NSUTF8StringEncoding)$/.test(name)) delete classes[name];
  }

  const dollar = Object.assign((value?: unknown) => (value === undefined ? new ErrorRef() : new NSArray(value as unknown[])), classes);
  const imported: string[] = [];
  const ObjC = {
    import: (framework: string) => {
      imported.push(framework);
    },
    unwrap: (value: unknown) => plain(value),
  };
  return { ObjC, $: dollar, imported };
}

export const HELPER_SCRIPT = new URL('../../native/calendar-helper.jxa.js', import.meta.url);

/** Runs the helper script the way osascript would: its top level once, then `run(argv)`; returns what it prints. */
export function runHelperScript(state: FakeStore, stdin: string, scriptPath: string | URL = HELPER_SCRIPT): string {
  const bridge = createBridge(state, stdin);
  const context: Record<string, unknown> = { ObjC: bridge.ObjC, $: bridge.$ };
  runInNewContext(readFileSync(scriptPath, 'utf8'), context, { filename: 'calendar-helper.jxa.js' });
  const run = context.run as (argv: string[]) => unknown;
  return String(run([]));
}
