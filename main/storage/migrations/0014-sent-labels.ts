import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/** What the index holds for an item `i`, as 0006 writes it. */
const FTS_VALUES = `i.id, i.text, CASE WHEN i.from_owner = 1 THEN 'paviseowner ' ELSE '' END || coalesce(i.sender_name, '') || ' ' || i.sender,
  coalesce(i.conversation_name, '')`;

export function indexItem(channel: string, guid: string): string {
  return `INSERT INTO memory_fts (rowid, text, who, place) SELECT ${FTS_VALUES} FROM memory_items i
          WHERE i.channel = ${channel} AND i.guid = ${guid} AND NOT EXISTS (SELECT 1 FROM memory_fts WHERE rowid = i.id);`;
}

/** A label's rank, least trusted first (NULL ranks as the owner's). */
const rank = (label: string): string => `CASE json_extract(${label}, '$.kind') WHEN 'untrusted' THEN 0 WHEN 'contact' THEN 1 ELSE 2 END`;

/** The weakest label of a conversation's session (NULL when it has none that is not the owner's), as 0006 reads it. */
export const sessionLabel = (conversation: string): string => `(SELECT m.provenance FROM messages m WHERE m.session_id = (${conversation}) AND m.provenance IS NOT NULL
  ORDER BY ${rank('m.provenance')} LIMIT 1)`;

/** The weaker of two labels, either of which may be NULL; the owner's when both are. */
export const weaker = (a: string, b: string): string => `coalesce(CASE WHEN (${a}) IS NOT NULL AND ((${b}) IS NULL OR ${rank(a)} < ${rank(b)}) THEN (${a}) ELSE (${b}) END, '{"kind":"owner"}')`;

/** The newest send of Pavise's that an iMessage "from me" row echoes (same chat, its text or one chunk of it, recent). */
export const ECHOED = `(SELECT o.id FROM outbox o WHERE o.channel = new.channel AND o.conversation_id = new.conversation_id
  AND o.status IN ('sent', 'sending', 'uncertain') AND o.updated_at >= new.sent_at - 600000 AND (o.text = new.text OR instr(o.text, new.text) > 0)
  ORDER BY o.id DESC LIMIT 1)`;
export const CONVERSATION_SESSION = `SELECT session_id FROM conversations WHERE channel = new.channel AND conversation_id = new.conversation_id`;

/**
 * What Pavise sends keeps the label of whose words it carries when it is remembered. A scheduled job's message (an
 * alert quoting a stranger, a reminder a forward set up) goes to the owner's own chat, whose session may have read
 * nothing untrusted, so 0006's triggers remembered it as the owner's: it came back unasked in later preambles and
 * through recall, with any address in it counting as one the owner named. `outbox.provenance` holds the sender's
 * label (the scheduler sets it), and:
 *
 * - memory_from_outbox takes the weaker of it and the conversation's session label;
 * - memory_from_inbound no longer takes an iMessage "from me" row that echoes one of Pavise's sends as the owner's
 *   words: Pavise sends from this Mac's account, so chat.db shows its messages as the owner's. Such an echo is
 *   Pavise's (not from the owner, named Pavise), labelled as its outbox entry would be.
 */
export const migration0014: Migration = {
  version: 14,
  name: 'sent-labels',
  up(db: Database): void {
    db.exec(`
      ALTER TABLE outbox ADD COLUMN provenance TEXT;

      DROP TRIGGER memory_from_outbox;
      CREATE TRIGGER memory_from_outbox AFTER UPDATE OF status ON outbox
        WHEN new.status = 'sent' AND old.status != 'sent' AND new.channel != 'imessage' BEGIN
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
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem('new.channel', 'new.external_id')}
      END;
    `);
  },
};
