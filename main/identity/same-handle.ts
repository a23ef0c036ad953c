/**
 * Handles are compared in one canonical form: emails lower-cased, phone numbers as their digits with a leading
 * "+" (so "+1 (555) 000-1111" and "+15550001111" are the same person), Telegram ids as digits.
 */
export function canonicalHandle(handle: string): string {
  const trimmed = handle.trim();
  if (trimmed.includes('@')) return trimmed.toLowerCase();
  if (/^\+?[\d\s().-]{6,}$/.test(trimmed)) {
    const digits = trimmed.replace(/\D/g, '');
    return trimmed.startsWith('+') ? `+${digits}` : digits;
  }
  return trimmed;
}

export function sameHandle(a: string, b: string): boolean {
  const left = canonicalHandle(a);
  const right = canonicalHandle(b);
  if (left === right) return true;
  const tail = phoneTail(left);
  return tail !== undefined && tail === phoneTail(right);
}

/** A number stored without its country code still matches on its last ten digits: those, for a canonical phone number. */
export function phoneTail(canonical: string): string | undefined {
  return /^\+?\d{7,}$/.test(canonical) ? canonical.replace(/\D/g, '').slice(-10) : undefined;
}
