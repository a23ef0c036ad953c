import { describeLabel, type MemoryView } from '../common/memory-view.js';
import type { Provenance } from '../common/messages.js';
import type { Memory } from '../storage/memories-store.js';

export function toMemoryView(memory: Memory): MemoryView {
  return {
    id: memory.id,
    text: memory.text,
    provenance: memory.provenance,
    from: describeLabel(memory.provenance),
    origin: memory.origin,
    createdAt: memory.createdAt,
    updatedAt: memory.updatedAt,
    ...(memory.supersededBy !== undefined ? { supersededBy: memory.supersededBy } : {}),
    sources: memory.sources,
  };
}

/** Whose words a label names, as a filter key: the owner, one contact, one untrusted source. */
export function personKey(provenance: Provenance): string {
  switch (provenance.kind) {
    case 'owner':
      return 'owner';
    case 'contact':
      return `contact:${provenance.contactId}`;
    case 'untrusted':
      return `untrusted:${provenance.source}:${provenance.detail ?? ''}`;
  }
}
