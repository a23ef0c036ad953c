import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';
import { CONVERSATION_SESSION, ECHOED, indexItem, sessionLabel, weaker } from './0014-sent-labels.js';

/**
 * Notices are Pavise's system's words, not the assistant's: "I couldn't reach the model, I'll try again" and the
 * like. `outbox.notice` marks them, and memory does not keep them, so they never come back as something Pavise said
 * (through recall into a later turn's context, or `pavise memory search`):
 *
 * - memory_from_outbox (0014) skips a sent notice;
 * - memory_from_inbound (0014) skips an iMessage "from me" row that echoes a notice (Pavise sends from this Mac's
 *   account, so chat.db shows each send again); the gateway ignores that echo as its own already.
 */
export const migration0015: Migration = {
  version: 15,
  name: 'notices',
  up(db: Database): void {
    db.exec(`
      ALTER TABLE outbox ADD COLUMN notice INTEGER NOT NULL DEFAULT 0;

      DROP TRIGGER memory_from_outbox;
      CREATE TRIGGER memory_from_outbox AFTER UPDATE OF status ON outbox
        WHEN new.status = 'sent' AND old.status != 'sent' AND new.channel != 'imessage' AND new.notice = 0 BEGIN
        INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
        SELECT 'message', new.channel, new.conversation_id, c.title, 'outbox:' || new.id, 'pavise', 'Pavise', 0, coalesce(c.is_group, 0), new.text,
          coalesce(new.sent_at, new.updated_at), ${weaker('new.provenance', sessionLabel('c.session_id'))}
        FROM (SELECT 1) LEFT JOIN conversations c ON c.channel = new.channel AND c.conversation_id = new.conversation_id
        WHERE new.text != ''
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem('new.channel', "'outbox:' || new.id")}
      END;

      DROP TRIGGER memory_from_inbound;
      CREATE TRIGGER memory_from_inbound AFTER INSERT ON inbound_messages WHEN new.kind IN ('message', 'forwarded', 'edit') AND new.text != '' BEGIN
        INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
        SELECT 'message', new.channel, new.conversation_id,
          (SELECT title FROM conversations WHERE channel = new.channel AND conversation_id = new.conversation_id),
          new.external_id, new.sender,
          CASE WHEN e.id IS NOT NULL THEN 'Pavise' ELSE new.sender_name END,
          CASE WHEN e.id IS NOT NULL THEN 0 ELSE new.is_from_me END,
          new.is_group, new.text, new.sent_at,
          CASE WHEN e.id IS NOT NULL THEN ${weaker('e.provenance', sessionLabel(CONVERSATION_SESSION))}
            WHEN new.is_from_me = 1 THEN '{"kind":"owner"}'
            ELSE coalesce(new.provenance, json_object('kind', 'untrusted', 'source', 'non_owner_sender',
              'detail', new.channel || ' ' || coalesce(new.sender_name, new.sender))) END
        FROM (SELECT 1) LEFT JOIN outbox e ON new.is_from_me = 1 AND e.id = ${ECHOED}
        WHERE e.id IS NULL OR e.notice = 0
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem('new.channel', 'new.external_id')}
      END;
    `);
  },
};
