import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Migration 0006's memory_from_outbox, with one fix: a message sent to a chat Pavise has not read from yet (a
 * scheduled reminder to a paired Telegram owner) has no conversations row, so its is_group was NULL and the NOT NULL
 * column made marking the message sent throw. Such a chat counts as not a group.
 */
const MEMORY_FROM_OUTBOX = `
  DROP TRIGGER memory_from_outbox;
  CREATE TRIGGER memory_from_outbox AFTER UPDATE OF status ON outbox
    WHEN new.status = 'sent' AND old.status != 'sent' AND new.channel != 'imessage' BEGIN
    INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
    SELECT 'message', new.channel, new.conversation_id, c.title, 'outbox:' || new.id, 'pavise', 'Pavise', 0, coalesce(c.is_group, 0), new.text,
      coalesce(new.sent_at, new.updated_at),
      coalesce((SELECT m.provenance FROM messages m WHERE m.session_id = c.session_id AND m.provenance IS NOT NULL
                  ORDER BY CASE json_extract(m.provenance, '$.kind') WHEN 'untrusted' THEN 0 WHEN 'contact' THEN 1 ELSE 2 END LIMIT 1),
               '{"kind":"owner"}')
    FROM (SELECT 1) LEFT JOIN conversations c ON c.channel = new.channel AND c.conversation_id = new.conversation_id
    WHERE new.text != ''
    ON CONFLICT (channel, guid) DO NOTHING;
    INSERT INTO memory_fts (rowid, text, who, place)
      SELECT i.id, i.text, CASE WHEN i.from_owner = 1 THEN 'paviseowner ' ELSE '' END || coalesce(i.sender_name, '') || ' ' || i.sender,
        coalesce(i.conversation_name, '') FROM memory_items i
      WHERE i.channel = new.channel AND i.guid = 'outbox:' || new.id AND NOT EXISTS (SELECT 1 FROM memory_fts WHERE rowid = i.id);
  END;
`;

/**
 * What a channel returned when it accepted a message, so "delivered" names it: `outbox.external_ids` holds the ids
 * the channel gave (a JSON array: Telegram's message_id per chunk; empty for iMessage, whose only answer is
 * osascript's exit 0), and a job run records the channel it went out on and those ids. It also mends 0006's outbox
 * memory trigger (above).
 */
export const migration0012: Migration = {
  version: 12,
  name: 'delivery-receipts',
  up(db: Database): void {
    db.exec(`
      ALTER TABLE outbox ADD COLUMN external_ids TEXT;
      ALTER TABLE job_runs ADD COLUMN delivered_via TEXT;
      ALTER TABLE job_runs ADD COLUMN channel_message_ids TEXT;
    `);
    db.exec(MEMORY_FROM_OUTBOX);
  },
};
