import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Labels travel with data (invariant 4): every row that holds text stores its provenance as JSON, so text read back
 * later is as trusted as where it came from. Notes saved before this version were saved on the owner's behalf and
 * stay the owner's. A conversation title is the name the chat gave itself (a sender's own display name), never the
 * owner's words: existing titles are labelled as a non-owner's text. Inbound messages take the label of the sender
 * role already recorded for them; a row not yet classified has none until it is.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'provenance',
  up(db: Database): void {
    db.exec(`
      ALTER TABLE notes ADD COLUMN provenance TEXT NOT NULL DEFAULT '{"kind":"owner"}' CHECK (json_valid(provenance));

      ALTER TABLE conversations ADD COLUMN title_provenance TEXT CHECK (title_provenance IS NULL OR json_valid(title_provenance));
      UPDATE conversations SET title_provenance = json_object(
        'kind', 'untrusted', 'source', 'non_owner_sender', 'detail', 'the name ' || channel || ' ' || conversation_id || ' gives itself'
      ) WHERE title IS NOT NULL;

      ALTER TABLE inbound_messages ADD COLUMN provenance TEXT CHECK (provenance IS NULL OR json_valid(provenance));
      UPDATE inbound_messages SET provenance = CASE role
        WHEN 'owner' THEN '{"kind":"owner"}'
        WHEN 'self' THEN '{"kind":"owner"}'
        WHEN 'contact' THEN json_object('kind', 'contact', 'contactId', channel || ':' || sender)
        WHEN 'stranger' THEN json_object('kind', 'untrusted', 'source', 'non_owner_sender', 'detail', channel || ' ' || coalesce(sender_name, sender))
      END WHERE role IS NOT NULL;
    `);
  },
};
