/** Handles are compared in main/identity/handles.ts: phone numbers as E.164, emails case-insensitively, Telegram by id. */
export { canonicalHandle, sameHandle } from '../identity/handles.js';
