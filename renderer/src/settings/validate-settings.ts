import { IPC_REQUESTS, type IpcRequest } from '../../../main/common/ipc.js';

/**
 * Checks a settings change against the IPC contract itself (the schema the core parses with), so the limits in
 * the form are the core's limits; each problem comes back in words, keyed by field.
 */
export type LimitField = keyof NonNullable<IpcRequest<'settings.update'>['limits']>;

const updateSchema = IPC_REQUESTS['settings.update'];
const limitShape = updateSchema.shape.limits.unwrap().shape;

export function limitRange(field: LimitField): { readonly min: number; readonly max: number; readonly whole: boolean } {
  const schema = limitShape[field].unwrap();
  return { min: schema.minValue ?? 0, max: schema.maxValue ?? Number.MAX_SAFE_INTEGER, whole: schema.isInt };
}

function rangeWords(field: LimitField): string {
  const { min, max, whole } = limitRange(field);
  const show = (value: number) => (field === 'dailySpendUsd' ? `$${value.toLocaleString('en-US')}` : value.toLocaleString('en-US'));
  return `Use ${whole ? 'a whole number' : 'a number'} from ${show(min)} to ${show(max)}.`;
}

export function validateUpdate(patch: IpcRequest<'settings.update'>): Record<string, string> {
  const parsed = updateSchema.safeParse(patch);
  if (parsed.success) return {};
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const [group, field] = issue.path.map(String);
    const key = field ? `${group}.${field}` : (group ?? 'request');
    if (errors[key]) continue;
    if (group === 'limits' && field && field in limitShape) errors[key] = rangeWords(field as LimitField);
    else if (key === 'model.baseURL') errors[key] = 'Enter a full address starting with https:// (or http:// for a server on this Mac).';
    else if (key === 'model.name') errors[key] = 'Enter a model name, or leave it empty for the provider’s default.';
    else if (group === 'imessageOwners') errors.imessageOwners = 'Enter a phone number (with country code, like +1 555 000 1111) or an Apple ID email.';
    else errors[key] = issue.message;
  }
  return errors;
}

/** A number field's text as a number; empty or unreadable text becomes NaN, which the schema reports. */
export function numberFrom(text: string): number {
  const trimmed = text.trim().replace(/^\$/, '').replace(/,/g, '');
  return trimmed === '' ? Number.NaN : Number(trimmed);
}
