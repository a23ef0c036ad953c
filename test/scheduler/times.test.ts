import { describe, expect, it } from 'vitest';
import { nextCronRun, parseWhen, splitReminder, WhenError } from '../../main/scheduler/times.js';
import { afterQuietHours, instantOf, minutesOf } from '../../main/scheduler/zoned-time.js';

const NY = 'America/New_York';
const NOW = Date.parse('2026-03-07T15:00:00Z'); // Saturday 10:00 in New York, the day before clocks go forward

describe('times in the owner’s zone', () => {
  it('reads one-shot phrases in the zone, across the DST change', async () => {
    expect((await parseWhen('in 20 minutes', NOW, NY)).firstRunAt).toBe(NOW + 20 * 60_000);
    // Tomorrow 09:00 is already EDT (UTC-4): read on that day, not with today's offset.
    expect((await parseWhen('tomorrow at 9', NOW, NY)).firstRunAt).toBe(Date.parse('2026-03-08T13:00:00Z'));
    // 02:30 does not exist on 8 March: it moves forward by the gap.
    expect((await parseWhen('tomorrow at 2:30am', NOW, NY)).firstRunAt).toBe(Date.parse('2026-03-08T07:30:00Z'));
    // "at 9am" said after 9 means tomorrow.
    expect((await parseWhen('at 9am', NOW, NY)).firstRunAt).toBe(Date.parse('2026-03-08T13:00:00Z'));
    expect((await parseWhen('tomorrow at 9', NOW, 'Europe/Berlin')).firstRunAt).toBe(Date.parse('2026-03-08T08:00:00Z'));
  });

  it('turns recurring phrases into cron lines evaluated in the zone', async () => {
    const weekdays = await parseWhen('weekdays at 7:30', NOW, NY);
    expect(weekdays.schedule).toEqual({ type: 'cron', expression: '30 7 * * 1-5', description: 'weekdays at 07:30' });
    expect(weekdays.firstRunAt).toBe(Date.parse('2026-03-09T11:30:00Z'));
    expect((await parseWhen('every monday and thursday at 6pm', NOW, NY)).schedule).toMatchObject({ expression: '0 18 * * 1,4' });
    expect((await parseWhen('every day at noon', NOW, NY)).schedule).toMatchObject({ expression: '0 12 * * *' });
    expect((await parseWhen('every 15 minutes', NOW, NY)).schedule).toMatchObject({ expression: '*/15 * * * *' });
    expect((await parseWhen('0 8 * * 6', NOW, NY)).firstRunAt).toBe(Date.parse('2026-03-14T12:00:00Z'));
  });

  it('says what to write instead for a past time, no time, or a broken cron line', async () => {
    await expect(parseWhen('yesterday at 9', NOW, NY)).rejects.toThrow(/already past .* give a time in the future/);
    await expect(parseWhen('whenever you like', NOW, NY)).rejects.toThrow(/not a time Pavise understands; e\.g\. "in 20 minutes"/);
    await expect(parseWhen('', NOW, NY)).rejects.toBeInstanceOf(WhenError);
    await expect(parseWhen('61 25 * * *', NOW, NY)).rejects.toThrow(/not a cron line croner accepts/);
  });

  it('fires a time in the gap once, at the jump, and the repeated hour once, the first time', async () => {
    let at = Date.parse('2026-03-07T12:00:00Z');
    const gap: number[] = [];
    for (let i = 0; i < 3; i += 1) gap.push((at = (await nextCronRun('30 2 * * *', NY, at)) as number));
    expect(gap.map((instant) => new Date(instant).toISOString())).toEqual(['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z']);
    at = Date.parse('2026-10-31T12:00:00Z');
    const overlap: number[] = [];
    for (let i = 0; i < 2; i += 1) overlap.push((at = (await nextCronRun('30 1 * * *', NY, at)) as number));
    expect(overlap.map((instant) => new Date(instant).toISOString())).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    expect(instantOf({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, NY)).toBe(Date.parse('2026-11-01T05:30:00Z'));
  });

  it('holds deliveries in quiet hours until they end, across midnight and within a day', () => {
    const quiet = { start: '22:00', end: '07:00' };
    expect(afterQuietHours(Date.parse('2026-06-02T03:00:00Z'), NY, quiet)).toBe(Date.parse('2026-06-02T11:00:00Z')); // 23:00 → 07:00
    expect(afterQuietHours(Date.parse('2026-06-02T09:00:00Z'), NY, quiet)).toBe(Date.parse('2026-06-02T11:00:00Z')); // 05:00 → 07:00
    expect(afterQuietHours(Date.parse('2026-06-02T15:00:00Z'), NY, quiet)).toBe(Date.parse('2026-06-02T15:00:00Z')); // 11:00 stays
    expect(afterQuietHours(Date.parse('2026-06-02T17:30:00Z'), NY, { start: '13:00', end: '14:00' })).toBe(Date.parse('2026-06-02T18:00:00Z'));
    expect(afterQuietHours(123, NY, undefined)).toBe(123);
    expect(() => minutesOf('7.30')).toThrow(/HH:MM/);
  });

  it('splits a sentence into what to remember and when', async () => {
    expect(await splitReminder('remind me to call mum tomorrow at 9', NOW)).toEqual({ text: 'call mum', when: 'tomorrow at 9' });
    expect(await splitReminder('water the plants every monday at 8', NOW)).toEqual({ text: 'water the plants', when: 'every monday at 8' });
    expect(await splitReminder('in 20 minutes check the oven', NOW)).toEqual({ text: 'check the oven', when: 'in 20 minutes' });
    expect(await splitReminder('pay rent', NOW)).toBeUndefined();
  });

  it('keeps a recurring time written first, as in the README ("weekdays at 7:30 stand-up")', async () => {
    expect(await splitReminder('weekdays at 7:30 stand-up', NOW)).toEqual({ text: 'stand-up', when: 'weekdays at 7:30' });
    expect(await splitReminder('every day at 3 pm stretch', NOW)).toEqual({ text: 'stretch', when: 'every day at 3 pm' });
    expect(await splitReminder('every monday and thursday at 18:00 gym', NOW)).toEqual({ text: 'gym', when: 'every monday and thursday at 18:00' });
  });

  it('refuses a repeat it cannot schedule instead of making it a one-shot ("every 90 minutes")', async () => {
    await expect(parseWhen('every 90 minutes', NOW, NY)).rejects.toThrow(/"every 90 minutes" is a repeat Pavise cannot schedule; e\.g\./);
    await expect(parseWhen('every 2 hours', NOW, NY)).rejects.toBeInstanceOf(WhenError);
    expect(await splitReminder('drink water every 90 minutes', NOW)).toEqual({ text: 'drink water', when: 'every 90 minutes' });
  });

  it('reads one named day as one day, not every week ("call mum on monday")', async () => {
    // Saturday 7 March in New York: the coming Monday is the 9th, 09:00 EDT.
    const monday = await parseWhen('on monday', NOW, NY);
    expect(monday.schedule.type).toBe('once');
    expect(monday.firstRunAt).toBe(Date.parse('2026-03-09T13:00:00Z'));
    expect((await parseWhen('friday 17:30', NOW, NY)).schedule.type).toBe('once');
    expect((await parseWhen('monday at 9', NOW, NY)).schedule.type).toBe('once');
    expect((await parseWhen('on mondays at 9', NOW, NY)).schedule).toMatchObject({ type: 'cron', expression: '0 9 * * 1' });
    expect((await parseWhen('every monday', NOW, NY)).schedule).toMatchObject({ type: 'cron', expression: '0 9 * * 1' });
    expect(await splitReminder('call mum on monday', NOW)).toEqual({ text: 'call mum', when: 'on monday' });
  });
});

describe('review: phrases that worked before the recent parsing changes', () => {
  it('"every 7 minutes" is not refused as more often than every 5 minutes (only the hour wrap is 4 minutes)', async () => {
    for (const step of [7, 8, 14, 19, 28, 29, 56, 59]) {
      expect((await parseWhen(`every ${step} minutes`, NOW, NY)).schedule).toMatchObject({ type: 'cron', expression: `*/${step} * * * *` });
    }
    await expect(parseWhen('every 4 minutes', NOW, NY)).rejects.toThrow(/more often than every 5 minutes/);
  });

  it('"every" or "each" inside the text is not taken for a repeat', async () => {
    expect(await splitReminder('remind me to water each plant tomorrow at 9', NOW)).toEqual({ text: 'water each plant', when: 'tomorrow at 9' });
    expect(await splitReminder('check every door at 10pm', NOW)).toEqual({ text: 'check every door', when: 'at 10pm' });
  });

  it('a leading "daily" or "weekend" that is part of the text does not override the time in the sentence', async () => {
    expect(await splitReminder('daily standup notes tomorrow at 9', NOW)).toEqual({ text: 'daily standup notes', when: 'tomorrow at 9' });
    expect(await splitReminder('weekend shopping on saturday at 10', NOW)).toEqual({ text: 'weekend shopping', when: 'on saturday at 10' });
    // A leading phrase with its own time stays the schedule, whatever the text says after it.
    expect(await splitReminder('weekdays at 7:30 stand-up for 15 minutes', NOW)).toEqual({ text: 'stand-up for 15 minutes', when: 'weekdays at 7:30' });
  });
});
