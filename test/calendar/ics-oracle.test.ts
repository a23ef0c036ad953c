/**
 * Our expansion against an independent oracle: test/fixtures/ics/expected/ holds what the Python library
 * recurring-ical-events (dateutil underneath) produced for every fixture, in the window recorded in each file
 * (regenerate with test/fixtures/ics/expected/generate.py). Every field of every occurrence must agree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandIcs, type IcsOccurrence } from '../../main/calendar/ics/expand.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/ics');
const EXPECTED = join(FIXTURES, 'expected');

interface Expected {
  readonly ownerTimeZone: string;
  readonly window?: { readonly from: string; readonly to: string };
  readonly events?: IcsOccurrence[];
  readonly oracleError?: string;
}

/**
 * Files where the oracle is wrong or the file itself is broken, with the reason (checked against RFC 5545). Only
 * these files are skipped; every other file is compared in full.
 */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

const files = ['icaljs', 'node-ical'].flatMap((dir) =>
  readdirSync(join(EXPECTED, dir))
    .filter((name) => name.endsWith('.ics.json'))
    .map((name) => `${dir}/${name.replace(/\.json$/, '')}`),
);

function sortKey(occurrence: IcsOccurrence): string {
  const instant = occurrence.allDay ? occurrence.start : new Date(occurrence.start).toISOString();
  return `${instant}\u0000${occurrence.uid}\u0000${occurrence.end}\u0000${occurrence.summary ?? ''}`;
}

function sorted(events: readonly IcsOccurrence[]): IcsOccurrence[] {
  return [...events].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

describe('.ics expansion agrees with the recurring-ical-events oracle', () => {
  it('has an expected file for the fixtures, and every exception names a real file', () => {
    expect(files.length).toBeGreaterThan(50);
    for (const file of Object.keys(EXCEPTIONS)) expect(files).toContain(file);
  });

  it.each(files.filter((file) => !Object.hasOwn(EXCEPTIONS, file)))('%s', (file) => {
    const expected = JSON.parse(readFileSync(join(EXPECTED, `${file}.json`), 'utf8')) as Expected;
    expect(expected.oracleError, 'the oracle failed on this file: list it in EXCEPTIONS with the reason').toBeUndefined();
    if (!expected.window || !expected.events) throw new Error(`${file}.json has no window or events`);
    const ours = expandIcs(readFileSync(join(FIXTURES, file)), {
      from: new Date(expected.window.from),
      to: new Date(expected.window.to),
      ownerTimeZone: expected.ownerTimeZone,
    });
    const actual = sorted(ours.events);
    const wanted = sorted(expected.events);
    for (let index = 0; index < Math.max(actual.length, wanted.length); index++) {
      expect(actual[index], `occurrence #${index} of ${file}`).toEqual(wanted[index]);
    }
  });
});
