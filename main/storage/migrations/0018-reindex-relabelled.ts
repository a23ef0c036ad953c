import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Keeps the search index in step with a remembered item once it is written. The gateway learns a message's sender
 * after memory stored it, and relabels the copy (0006's memory_inbound_label): the owner writing from their own
 * Telegram account was remembered as someone's message and then became the owner's, but the index never got the
 * owner's word in `who`, so "what did I say…" and `recall(who: me)` could not find it; a copy relabelled away from the
 * owner kept the word. An item's text can change too (a secret scrubbed from it).
 *
 * A trigger on UPDATE is cheap here, unlike on INSERT (0006's indexItem): items are updated one at a time, never in
 * bulk imports. Items whose index entry disagrees with their owner mark today are indexed again.
 */
const OWNER_WORD = 'paviseowner';

export const migration0018: Migration = {
  version: 18,
  name: 'reindex-relabelled',
  up(db: Database): void {
    db.exec(`
      CREATE TRIGGER memory_items_reindex AFTER UPDATE OF text, from_owner, sender, sender_name, conversation_name ON memory_items
        WHEN old.text IS NOT new.text OR old.from_owner IS NOT new.from_owner OR old.sender IS NOT new.sender
          OR old.sender_name IS NOT new.sender_name OR old.conversation_name IS NOT new.conversation_name BEGIN
        DELETE FROM memory_fts WHERE rowid = old.id;
        INSERT INTO memory_fts (rowid, text, who, place) VALUES (new.id, new.text,
          CASE WHEN new.from_owner = 1 THEN '${OWNER_WORD} ' ELSE '' END || coalesce(new.sender_name, '') || ' ' || new.sender,
          coalesce(new.conversation_name, ''));
      END;

      CREATE TEMP TABLE stale_index AS
        WITH marked AS (SELECT rowid AS id FROM memory_fts WHERE memory_fts MATCH 'who : ${OWNER_WORD}')
        SELECT id FROM memory_items WHERE from_owner = 1 AND id NOT IN marked
        UNION ALL SELECT i.id FROM memory_items i JOIN marked m ON m.id = i.id WHERE i.from_owner = 0;
      DELETE FROM memory_fts WHERE rowid IN (SELECT id FROM stale_index);
      INSERT INTO memory_fts (rowid, text, who, place)
        SELECT i.id, i.text, CASE WHEN i.from_owner = 1 THEN '${OWNER_WORD} ' ELSE '' END || coalesce(i.sender_name, '') || ' ' || i.sender,
          coalesce(i.conversation_name, '')
        FROM memory_items i WHERE i.id IN (SELECT id FROM stale_index);
      DROP TABLE stale_index;
    `);
  },
};
