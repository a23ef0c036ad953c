import type { Provenance } from './messages.js';

/** A long-term memory as the owner sees it (CLI, Memory pane): its words, label and where it came from. */
export interface MemoryView {
  readonly id: number;
  readonly text: string;
  readonly provenance: Provenance;
  /** The label in plain words, read after "from": "you", "your contact imessage:+1555…", "someone who is not you — imessage Sam (+1555…)". */
  readonly from: string;
  readonly origin: 'tool' | 'owner' | 'extraction';
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly supersededBy?: number | undefined;
  readonly sources: readonly { readonly kind: 'message' | 'item'; readonly ref: string }[];
}

const SOURCE_WORDS = {
  non_owner_sender: 'someone who is not you',
  web: 'a web page',
  email: 'an email',
  calendar_invite: 'a calendar invite',
  file: 'a file',
  tool_output: 'tool output derived from untrusted content',
} as const;

export function describeLabel(provenance: Provenance): string {
  switch (provenance.kind) {
    case 'owner':
      return 'you';
    case 'contact':
      return `your contact ${provenance.contactId}`;
    case 'untrusted':
      return `${SOURCE_WORDS[provenance.source]}${provenance.detail ? ` — ${provenance.detail}` : ''}`;
  }
}

export const ORIGIN_WORDS: Readonly<Record<MemoryView['origin'], string>> = {
  owner: 'written by you',
  tool: 'remembered during a conversation',
  extraction: 'extracted when a conversation was compacted',
};
