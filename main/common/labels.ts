import { z } from 'zod';
import { OWNER, type Provenance } from './messages.js';

/**
 * Provenance labels as data: ordered from most to least trusted, combined as "the weakest wins", and read back from
 * storage. Text made from several pieces (a tool result over many rows, a turn over its context) is as trusted as
 * its least trusted piece.
 */
const RANK = { owner: 0, contact: 1, untrusted: 2 } as const;

/**
 * The least trusted of `labels`; the owner's when there are none. The first of equally weak labels wins, except that
 * two different contacts' words together are neither contact's: labelled as one of them, text made from both (a
 * summary, an extracted fact) would pass as that contact's words and could replace what that contact said.
 */
export function weakest(labels: Iterable<Provenance | undefined>): Provenance {
  let worst: Provenance = OWNER;
  for (const label of labels) {
    if (!label) continue;
    if (RANK[label.kind] > RANK[worst.kind]) worst = label;
    else if (label.kind === 'contact' && worst.kind === 'contact' && label.contactId !== worst.contactId) worst = contacts(worst.contactId, label.contactId);
  }
  return worst;
}

function contacts(first: string, second: string): Provenance {
  return { kind: 'untrusted', source: 'non_owner_sender', detail: `the words of more than one contact (${first}, ${second})` };
}

const provenanceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('owner') }),
  z.object({ kind: z.literal('contact'), contactId: z.string() }),
  z.object({
    kind: z.literal('untrusted'),
    source: z.enum(['non_owner_sender', 'web', 'email', 'calendar_invite', 'file', 'tool_output']),
    detail: z.string().optional(),
  }),
]);

/**
 * A stored label. A label that is missing or cannot be read is never taken as the owner's: it reads as untrusted
 * text of unknown origin.
 */
export function parseProvenance(json: string | null | undefined): Provenance {
  if (json == null) return UNKNOWN;
  try {
    const parsed = provenanceSchema.safeParse(JSON.parse(json));
    if (!parsed.success) return UNKNOWN;
    const value = parsed.data;
    if (value.kind === 'untrusted' && value.detail === undefined) return { kind: 'untrusted', source: value.source };
    return value as Provenance;
  } catch {
    return UNKNOWN;
  }
}

const UNKNOWN: Provenance = Object.freeze({ kind: 'untrusted', source: 'tool_output', detail: 'stored text of unknown origin' });
