/** Small formatting helpers; words chosen for the owner, not for developers. */
import { CHANNEL_DISPLAY_NAMES } from '../../../main/common/channels.js';

export function money(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

export function relativeTime(ts: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - ts) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return new Date(ts).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function clockTime(ts: number, now = Date.now()): string {
  const date = new Date(ts);
  const time = date.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  if (new Date(now).toDateString() === date.toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${time}`;
}

/** "in 9 min", "in 40 s"; undefined once past. */
export function timeLeft(expiresAt: number, now = Date.now()): string | undefined {
  const seconds = Math.round((expiresAt - now) / 1000);
  if (seconds <= 0) return undefined;
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 90 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

export const CHANNEL_NAMES: Readonly<Record<string, string>> = CHANNEL_DISPLAY_NAMES;

const DECISION_WORDS: Readonly<Record<string, string>> = {
  allow: 'Allowed',
  ask: 'Asked you',
  deny: 'Denied',
  approve: 'Approved',
  'approve for 60 min': 'Allowed for 1 hour',
  done: 'Done',
  failed: 'Failed',
};

export function decisionWords(decision: string | undefined): string {
  if (!decision) return '—';
  return DECISION_WORDS[decision] ?? decision;
}

export function actorWords(actor: string): string {
  if (actor === 'policy') return 'Policy';
  if (actor === 'pavise') return 'Pavise';
  if (actor.startsWith('owner:')) {
    const where = actor.slice('owner:'.length);
    const place: Readonly<Record<string, string>> = {
      popover: 'menu bar',
      notification: 'notification',
      cli: 'terminal',
      terminal: 'terminal',
      telegram: 'Telegram',
      settings: 'Settings',
      'pairing-code': 'pairing code',
    };
    return `You (${place[where] ?? where})`;
  }
  return actor;
}

export const ACTIVITY_KINDS: readonly { readonly value: string; readonly label: string }[] = [
  { value: 'effect', label: 'Actions' },
  { value: 'approval_requested', label: 'Requests' },
  { value: 'approval_decided', label: 'Your decisions' },
  { value: 'decision', label: 'Policy checks' },
  { value: 'model_call_refused', label: 'Refused calls' },
  { value: 'breaker', label: 'Breaker' },
  { value: 'pause', label: 'Paused' },
  { value: 'resume', label: 'Resumed' },
  { value: 'system', label: 'System' },
];

export const ACTIVITY_DECISIONS: readonly string[] = ['approve', 'approve for 60 min', 'deny', 'ask', 'allow', 'done', 'failed'];
