/* global ObjC, $ */
// Pavise's calendar and contacts helper: a fixed JXA script run as `osascript -l JavaScript calendar-helper.jxa.js`
// by main/calendar/native/helper-client.ts. It reads one JSON request on stdin and prints one JSON response; the
// shapes are main/calendar/native/protocol.schema.json. Nothing is ever spliced into this script: every value
// arrives as data on stdin. It talks to EventKit and Contacts through the Objective-C bridge (milliseconds per
// query), never to Calendar.app's scripting dictionary (seconds per query).
//
// macOS shows the access prompts for the app responsible for this process: Pavise, with the usage strings of its
// Info.plist (NSCalendarsFullAccessUsageDescription, NSContactsUsageDescription).
//
// The same text runs under Node in the tests against a mocked bridge (test/fakes/objc-bridge.ts), so it may use
// only what both have: ES2017, `ObjC`, `$`, and the `run(argv)` entry point osascript calls.

ObjC.import('Foundation');
ObjC.import('EventKit');
ObjC.import('Contacts');

var PROTOCOL_VERSION = 1;
// Enum values and key names, in case a framework's BridgeSupport does not export them to `$`.
var EK_ENTITY_EVENT = typeof $.EKEntityTypeEvent === 'number' ? $.EKEntityTypeEvent : 0;
var EK_SPAN_THIS_EVENT = typeof $.EKSpanThisEvent === 'number' ? $.EKSpanThisEvent : 0;
var CN_ENTITY_CONTACTS = typeof $.CNEntityTypeContacts === 'number' ? $.CNEntityTypeContacts : 0;
var UTF8 = typeof $.NSUTF8StringEncoding === 'number' ? $.NSUTF8StringEncoding : 4;
var CONTACT_KEY_NAMES = {
  CNContactIdentifierKey: 'identifier', CNContactGivenNameKey: 'givenName', CNContactFamilyNameKey: 'familyName', CNContactNicknameKey: 'nickname',
  CNContactOrganizationNameKey: 'organizationName', CNContactPhoneNumbersKey: 'phoneNumbers', CNContactEmailAddressesKey: 'emailAddresses',
  CNContactBirthdayKey: 'birthday', CNContactRelationsKey: 'contactRelations', CNContactNoteKey: 'note',
};
var MAX_EVENTS = 50000;
var PARTICIPANT_STATUS = ['unknown', 'pending', 'accepted', 'declined', 'tentative', 'delegated', 'completed', 'in-process'];
var EVENT_ACCESS = ['not-determined', 'restricted', 'denied', 'full', 'write-only'];
var CONTACT_ACCESS = ['not-determined', 'restricted', 'denied', 'full', 'limited'];
var RESPONSE_STATUS = { accepted: 2, declined: 3, tentative: 4 };

function run() {
  var request;
  try {
    request = JSON.parse(readStdin());
  } catch (error) {
    return JSON.stringify(failure('bad-request', 'The request on stdin is not JSON.'));
  }
  try {
    return JSON.stringify(handle(request));
  } catch (error) {
    return JSON.stringify(failure('failed', 'The calendar helper failed: ' + String(error && error.message ? error.message : error)));
  }
}

function readStdin() {
  var data = $.NSFileHandle.fileHandleWithStandardInput.readDataToEndOfFile;
  return ObjC.unwrap($.NSString.alloc.initWithDataEncoding(data, UTF8));
}

function handle(request) {
  if (!request || typeof request !== 'object' || request.v !== PROTOCOL_VERSION) {
    return failure('bad-request', 'Unsupported protocol version; this helper speaks version ' + PROTOCOL_VERSION + '.');
  }
  switch (request.op) {
    case 'status':
      return success(status());
    case 'requestAccess':
      return success({ granted: request.entity === 'contacts' ? requestContactsAccess() : requestEventsAccess() });
    case 'listCalendars':
      return withEvents(function (store) { return { calendars: calendars(store) }; });
    case 'listEvents':
      return withEvents(function (store) { return listEvents(store, request); });
    case 'getEvent':
      return withEvents(function (store) { return { event: eventJson(findEvent(store, request.id)) }; });
    case 'createEvent':
      return withEvents(function (store) { return createEvent(store, request); });
    case 'moveEvent':
      return withEvents(function (store) { return moveEvent(store, request); });
    case 'deleteEvent':
      return withEvents(function (store) { return deleteEvent(store, request); });
    case 'respondToInvitation':
      return withEvents(function (store) { return respond(store, request); });
    case 'listContacts':
      return withContacts(function (store) { return listContacts(store, request); });
    default:
      return failure('bad-request', 'Unknown op "' + String(request.op) + '".');
  }
}

function success(result) {
  return { ok: true, result: result };
}

function failure(code, message, entity) {
  var error = { code: code, message: message };
  if (entity) error.entity = entity;
  return { ok: false, error: error };
}

/** A failure thrown inside an op, answered as itself. */
function HelperFailure(code, message) {
  this.code = code;
  this.message = message;
}

function status() {
  var info = $.NSProcessInfo.processInfo.operatingSystemVersion;
  return {
    events: EVENT_ACCESS[$.EKEventStore.authorizationStatusForEntityType(EK_ENTITY_EVENT)] || 'denied',
    contacts: CONTACT_ACCESS[$.CNContactStore.authorizationStatusForEntityType(CN_ENTITY_CONTACTS)] || 'denied',
    macos: [info.majorVersion, info.minorVersion, info.patchVersion].join('.'),
  };
}

/** Runs the run loop until `start(done)` calls done(value), for EventKit's and Contacts' completion handlers. */
function waitFor(start) {
  var finished = false;
  var value = false;
  start(function (result) {
    value = result;
    finished = true;
  });
  var deadline = Date.now() + 120000;
  while (!finished && Date.now() < deadline) {
    $.NSRunLoop.currentRunLoop.runUntilDate($.NSDate.dateWithTimeIntervalSinceNow(0.05));
  }
  return value;
}

function requestEventsAccess() {
  var store = $.EKEventStore.alloc.init;
  // macOS 14 and later grant full access only through requestFullAccessToEvents; older systems have one kind.
  if (typeof store.requestFullAccessToEventsWithCompletion === 'function') {
    return waitFor(function (done) { store.requestFullAccessToEventsWithCompletion(function (granted) { done(Boolean(granted)); }); });
  }
  return waitFor(function (done) {
    store.requestAccessToEntityTypeCompletion(EK_ENTITY_EVENT, function (granted) { done(Boolean(granted)); });
  });
}

function requestContactsAccess() {
  var store = $.CNContactStore.alloc.init;
  return waitFor(function (done) {
    store.requestAccessForEntityTypeCompletionHandler(CN_ENTITY_CONTACTS, function (granted) { done(Boolean(granted)); });
  });
}

function withEvents(work) {
  var access = EVENT_ACCESS[$.EKEventStore.authorizationStatusForEntityType(EK_ENTITY_EVENT)];
  if (access !== 'full') {
    return failure('no-access', access === 'not-determined'
      ? 'Pavise has not been given access to your calendars yet.'
      : 'Pavise has no full access to your calendars (it is "' + access + '").', 'events');
  }
  return guarded(function () { return work($.EKEventStore.alloc.init); });
}

function withContacts(work) {
  var access = CONTACT_ACCESS[$.CNContactStore.authorizationStatusForEntityType(CN_ENTITY_CONTACTS)];
  if (access !== 'full' && access !== 'limited') {
    return failure('no-access', access === 'not-determined'
      ? 'Pavise has not been given access to your contacts yet.'
      : 'Pavise has no access to your contacts (it is "' + access + '").', 'contacts');
  }
  return guarded(function () { return work($.CNContactStore.alloc.init); });
}

function guarded(work) {
  try {
    return success(work());
  } catch (error) {
    if (error instanceof HelperFailure) return failure(error.code, error.message);
    throw error;
  }
}

function text(value) {
  var unwrapped = value === undefined || value === null ? undefined : ObjC.unwrap(value);
  return typeof unwrapped === 'string' ? unwrapped : undefined;
}

function each(array, visit) {
  if (!array) return;
  var count = array.count;
  for (var index = 0; index < count; index++) visit(array.objectAtIndex(index), index);
}

function nsDate(iso) {
  var ms = Date.parse(iso);
  if (!isFinite(ms)) throw new HelperFailure('bad-request', '"' + iso + '" is not a date.');
  return $.NSDate.dateWithTimeIntervalSince1970(ms / 1000);
}

function isoOf(date) {
  return new Date(Math.round(date.timeIntervalSince1970 * 1000)).toISOString();
}

function calendars(store) {
  var out = [];
  var fallback = store.defaultCalendarForNewEvents;
  var defaultId = fallback ? text(fallback.calendarIdentifier) : undefined;
  each(store.calendarsForEntityType(EK_ENTITY_EVENT), function (calendar) {
    var id = text(calendar.calendarIdentifier) || '';
    var item = {
      id: id,
      title: text(calendar.title) || '',
      writable: Boolean(calendar.allowsContentModifications),
      account: (calendar.source && text(calendar.source.title)) || '',
    };
    if (id === defaultId) item.isDefault = true;
    out.push(item);
  });
  return out;
}

function selectedCalendars(store, names) {
  if (!names || names.length === 0) return null;
  var wanted = names.map(function (name) { return name.toLowerCase(); });
  var found = [];
  var matched = {};
  each(store.calendarsForEntityType(EK_ENTITY_EVENT), function (calendar) {
    var title = (text(calendar.title) || '').toLowerCase();
    var id = text(calendar.calendarIdentifier) || '';
    var hit = wanted.indexOf(title) >= 0 ? title : wanted.indexOf(id.toLowerCase()) >= 0 ? id.toLowerCase() : undefined;
    if (hit !== undefined) {
      found.push(calendar);
      matched[hit] = true;
    }
  });
  var missing = names.filter(function (name) { return !matched[name.toLowerCase()]; });
  if (missing.length > 0) throw new HelperFailure('not-found', 'No calendar is called "' + missing.join('", "') + '".');
  return $(found);
}

function listEvents(store, request) {
  var limit = Math.min(request.limit || MAX_EVENTS, MAX_EVENTS);
  var predicate = store.predicateForEventsWithStartDateEndDateCalendars(nsDate(request.from), nsDate(request.to), selectedCalendars(store, request.calendars));
  var events = [];
  var truncated = false;
  each(store.eventsMatchingPredicate(predicate), function (event) {
    if (events.length >= limit) truncated = true;
    else events.push(eventJson(event));
  });
  return { events: events, truncated: truncated };
}

function participantJson(participant) {
  var url = participant.URL ? text(participant.URL.absoluteString) || '' : '';
  var out = {
    email: url.replace(/^mailto:/i, ''),
    isCurrentUser: Boolean(participant.isCurrentUser),
    status: PARTICIPANT_STATUS[participant.participantStatus] || 'unknown',
  };
  var name = text(participant.name);
  if (name) out.name = name;
  return out;
}

function eventJson(event) {
  var zone = event.timeZone ? text(event.timeZone.name) : undefined;
  var calendar = event.calendar;
  var out = {
    id: text(event.eventIdentifier) || '',
    calendar: (calendar && text(calendar.title)) || '',
    calendarId: (calendar && text(calendar.calendarIdentifier)) || '',
    title: text(event.title) || '',
    start: isoOf(event.startDate),
    end: isoOf(event.endDate),
    allDay: Boolean(event.allDay),
    timeZone: zone || 'floating',
    attendees: [],
    recurring: Boolean(event.hasRecurrenceRules),
    writable: Boolean(calendar && calendar.allowsContentModifications),
  };
  var location = text(event.location);
  if (location) out.location = location;
  var notes = text(event.notes);
  if (notes) out.notes = notes;
  if (event.organizer) out.organizer = participantJson(event.organizer);
  // A subscription (EKCalendarTypeSubscription, or a calendar of a subscribed source) is someone else's feed.
  if (calendar && (calendar.type === 3 || (calendar.source && calendar.source.sourceType === 5))) out.subscribed = true;
  // A calendar the owner can only read, other than a subscription or their contacts' birthdays (EKCalendarTypeBirthday):
  // someone else's calendar shared with them, or Siri's events found in mail. Its text is not the owner's. (EventKit
  // says nothing public about who shares a calendar the owner may also write to.)
  else if (calendar && !calendar.allowsContentModifications && calendar.type !== 4) out.shared = true;
  each(event.attendees, function (attendee) {
    var json = participantJson(attendee);
    out.attendees.push(json);
    if (json.isCurrentUser) out.myStatus = json.status;
  });
  return out;
}

function findEvent(store, id) {
  var event = store.eventWithIdentifier(id);
  if (!event) throw new HelperFailure('not-found', 'No event has the id "' + id + '"; list the events again.');
  return event;
}

function save(store, event) {
  var error = $();
  if (!store.saveEventSpanCommitError(event, EK_SPAN_THIS_EVENT, true, error)) {
    throw new HelperFailure('failed', 'The calendar refused the change: ' + (text(error.localizedDescription) || 'no reason given') + '.');
  }
}

function timeZone(name) {
  var zone = $.NSTimeZone.timeZoneWithName(name);
  if (!zone) throw new HelperFailure('bad-request', '"' + name + '" is not a time zone.');
  return zone;
}

function calendarFor(store, name) {
  if (!name) {
    var fallback = store.defaultCalendarForNewEvents;
    if (!fallback) throw new HelperFailure('not-found', 'There is no default calendar for new events; name a calendar.');
    return fallback;
  }
  var chosen = selectedCalendars(store, [name]).objectAtIndex(0);
  if (!chosen.allowsContentModifications) throw new HelperFailure('unsupported', 'The calendar "' + name + '" is read-only.');
  return chosen;
}

/**
 * EventKit has no public way to invite people; its private EKAttendee class is what Calendar itself uses. When it
 * is missing, nothing is created: an event without the attendees the owner approved is not what was approved.
 */
function attendeesFor(addresses) {
  var Attendee = $.NSClassFromString('EKAttendee');
  if (!Attendee) throw new HelperFailure('unsupported', 'This macOS does not let Pavise invite attendees; the event was not created.');
  return $(addresses.map(function (address) {
    var attendee = Attendee.alloc.init;
    attendee.setValueForKey(address, 'emailAddress');
    return attendee;
  }));
}

function createEvent(store, request) {
  var event = $.EKEvent.eventWithEventStore(store);
  event.title = request.title;
  event.startDate = nsDate(request.start);
  event.endDate = nsDate(request.end);
  event.allDay = request.allDay;
  event.timeZone = timeZone(request.timeZone);
  event.calendar = calendarFor(store, request.calendar);
  if (request.location) event.location = request.location;
  if (request.notes) event.notes = request.notes;
  if (request.attendees && request.attendees.length > 0) event.setValueForKey(attendeesFor(request.attendees), 'attendees');
  save(store, event);
  return { event: eventJson(event) };
}

function moveEvent(store, request) {
  var event = findEvent(store, request.id);
  if (!event.calendar.allowsContentModifications) throw new HelperFailure('unsupported', 'That event is in a read-only calendar.');
  event.startDate = nsDate(request.start);
  event.endDate = nsDate(request.end);
  event.timeZone = timeZone(request.timeZone);
  save(store, event);
  return { event: eventJson(event) };
}

function deleteEvent(store, request) {
  var event = findEvent(store, request.id);
  if (!event.calendar.allowsContentModifications) throw new HelperFailure('unsupported', 'That event is in a read-only calendar.');
  var error = $();
  if (!store.removeEventSpanCommitError(event, EK_SPAN_THIS_EVENT, true, error)) {
    throw new HelperFailure('failed', 'The calendar refused to delete it: ' + (text(error.localizedDescription) || 'no reason given') + '.');
  }
  return { deleted: request.id };
}

/**
 * EventKit exposes no public call to answer an invitation; the owner's participant takes a new status through
 * key-value coding, and the answer counts only when the saved event reads back with it.
 */
function respond(store, request) {
  var event = findEvent(store, request.id);
  var mine;
  each(event.attendees, function (attendee) {
    if (attendee.isCurrentUser) mine = attendee;
  });
  if (!mine) throw new HelperFailure('not-found', 'You are not an attendee of that event, so there is no invitation to answer.');
  mine.setValueForKey(RESPONSE_STATUS[request.response], 'participantStatus');
  save(store, event);
  var saved = eventJson(findEvent(store, request.id));
  if (saved.myStatus !== request.response) {
    throw new HelperFailure('unsupported', 'macOS did not record the answer; open the invitation in Calendar to answer it.');
  }
  return { event: saved };
}

var CONTACT_KEYS = ['CNContactIdentifierKey', 'CNContactGivenNameKey', 'CNContactFamilyNameKey', 'CNContactNicknameKey', 'CNContactOrganizationNameKey', 'CNContactPhoneNumbersKey', 'CNContactEmailAddressesKey', 'CNContactBirthdayKey', 'CNContactRelationsKey'];

function listContacts(store, request) {
  var limit = request.limit || 100000;
  // Notes need an entitlement osascript does not have on macOS 13 and later; without it the notes are left out.
  var notesReadable = true;
  var contacts;
  try {
    contacts = fetchContacts(store, CONTACT_KEYS.concat(['CNContactNoteKey']), limit);
  } catch (error) {
    if (error instanceof HelperFailure) throw error;
    notesReadable = false;
    contacts = fetchContacts(store, CONTACT_KEYS, limit);
  }
  var result = { contacts: contacts, notesReadable: notesReadable };
  var me = meIdentifier(store);
  if (me) result.me = me;
  return result;
}

function fetchContacts(store, keyNames, limit) {
  var keys = $(keyNames.map(function (name) { return $[name] || CONTACT_KEY_NAMES[name]; }));
  var defaultContainer = text(store.defaultContainerIdentifier);
  var out = [];
  var withNotes = keyNames.indexOf('CNContactNoteKey') >= 0;
  each(store.containersMatchingPredicateError(null, $()), function (container) {
    var containerId = text(container.identifier);
    var error = $();
    var found = store.unifiedContactsMatchingPredicateKeysToFetchError($.CNContact.predicateForContactsInContainerWithIdentifier(containerId), keys, error);
    if (!found) throw new Error(text(error.localizedDescription) || 'Contacts refused the query');
    each(found, function (contact) {
      if (out.length < limit) out.push(contactJson(contact, containerId !== defaultContainer, withNotes));
    });
  });
  return out;
}

function meIdentifier(store) {
  try {
    var me = store.unifiedMeContactWithKeysToFetchError($([$.CNContactIdentifierKey || 'identifier']), $());
    return me ? text(me.identifier) : undefined;
  } catch (error) {
    return undefined;
  }
}

function labelled(values, read) {
  var out = [];
  each(values, function (item) {
    var raw = text(item.label);
    out.push({ label: raw ? text($.CNLabeledValue.localizedStringForLabel(raw)) || raw : '', value: read(item.value) || '' });
  });
  return out;
}

function two(number) {
  return (number < 10 ? '0' : '') + number;
}

function contactJson(contact, shared, withNotes) {
  var name = [text(contact.givenName), text(contact.familyName)].filter(Boolean).join(' ');
  var out = {
    id: text(contact.identifier) || '',
    name: name,
    phones: labelled(contact.phoneNumbers, function (phone) { return text(phone.stringValue); }),
    emails: labelled(contact.emailAddresses, function (email) { return text(email); }),
    relations: labelled(contact.contactRelations, function (relation) { return text(relation.name); }),
    shared: shared,
  };
  var nickname = text(contact.nickname);
  if (nickname) out.nickname = nickname;
  var organization = text(contact.organizationName);
  if (organization) out.organization = organization;
  var birthday = contact.birthday;
  // NSDateComponents leaves an unset year as NSDateComponentUndefined (NSIntegerMax).
  if (birthday && birthday.month >= 1 && birthday.month <= 12 && birthday.day >= 1 && birthday.day <= 31) {
    var year = birthday.year > 0 && birthday.year < 10000 ? String(birthday.year) + '-' : '--';
    out.birthday = year + two(birthday.month) + '-' + two(birthday.day);
  }
  if (withNotes) {
    var note = text(contact.note);
    if (note) out.note = note;
  }
  return out;
}
