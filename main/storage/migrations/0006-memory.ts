import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Memory: everything said on every channel, every local turn with Pavise and every note, as one item each with its
 * label, sender, conversation, time and where it came from (`channel` + `guid`: chat.db `message.guid`, Telegram
 * `chat:message`, `note:ID`, `turn:MESSAGE_ID`). Items are written by triggers where the rows are already stored, so
 * no path that stores a message can forget to remember it:
 *
 * - inbound messages at insert, labelled the owner's only when from the owner's own account and otherwise as a
 *   non-owner's text until the gateway classifies the sender (then the item takes the row's label);
 * - replies Pavise sent, once the outbox marks them sent, labelled as the session they answer (its weakest label).
 *   iMessage replies are not: they come back through chat.db as the owner's own messages, with their guid;
 * - local turns (session key `local`): the owner's words and Pavise's replies; channel sessions are covered above;
 * - notes, with their own label.
 *
 * `memory_fts` is a contentless FTS5 index (porter stemming) over text, who said it and where; `who` holds
 * `paviseowner` for the owner's own words so a query may name the owner whatever the configured name is. Deleting
 * an item removes it from the index (a trigger); inserting indexes it (the triggers here, MemoryStore otherwise).
 * `memory_import_checkpoints` makes imports resumable; `memory_embeddings` holds optional float32 vectors.
 */
/** What the index holds for an item `i` (the same as MemoryStore writes): its text, who said it, where. */
const FTS_VALUES = `i.id, i.text, CASE WHEN i.from_owner = 1 THEN 'paviseowner ' ELSE '' END || coalesce(i.sender_name, '') || ' ' || i.sender,
  coalesce(i.conversation_name, '')`;

/**
 * Indexes the item just written by a trigger, once. Written out in each trigger rather than as a trigger on
 * memory_items: FTS5 flushes its pending terms at every nested statement, so a per-row trigger made bulk imports
 * four times slower than the repository's direct inserts.
 */
function indexItem(channel: string, guid: string): string {
  return `INSERT INTO memory_fts (rowid, text, who, place) SELECT ${FTS_VALUES} FROM memory_items i
          WHERE i.channel = ${channel} AND i.guid = ${guid} AND NOT EXISTS (SELECT 1 FROM memory_fts WHERE rowid = i.id);`;
}

export const migration0006: Migration = {
  version: 6,
  name: 'memory',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE memory_items (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'turn', 'note')),
        channel TEXT NOT NULL,
        conversation TEXT NOT NULL,
        conversation_name TEXT,
        guid TEXT NOT NULL,
        sender TEXT NOT NULL,
        sender_name TEXT,
        from_owner INTEGER NOT NULL CHECK (from_owner IN (0, 1)),
        is_group INTEGER NOT NULL CHECK (is_group IN (0, 1)),
        text TEXT NOT NULL,
        at INTEGER NOT NULL,
        provenance TEXT NOT NULL CHECK (json_valid(provenance)),
        UNIQUE (channel, guid)
      ) STRICT;
      CREATE INDEX memory_items_conversation ON memory_items (channel, conversation, at, id);
      CREATE INDEX memory_items_at ON memory_items (at);

      CREATE VIRTUAL TABLE memory_fts USING fts5(
        text, who, place, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
      );

      CREATE TRIGGER memory_items_unindex AFTER DELETE ON memory_items BEGIN
        DELETE FROM memory_fts WHERE rowid = old.id;
      END;

      CREATE TABLE memory_embeddings (
        item_id INTEGER PRIMARY KEY REFERENCES memory_items (id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        dimensions INTEGER NOT NULL,
        vector BLOB NOT NULL
      ) STRICT;

      CREATE TABLE memory_import_checkpoints (
        source TEXT PRIMARY KEY,
        last_rowid INTEGER NOT NULL,
        imported INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TRIGGER memory_from_inbound AFTER INSERT ON inbound_messages WHEN new.kind IN ('message', 'forwarded', 'edit') AND new.text != '' BEGIN
        INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
        VALUES ('message', new.channel, new.conversation_id,
          (SELECT title FROM conversations WHERE channel = new.channel AND conversation_id = new.conversation_id),
          new.external_id, new.sender, new.sender_name, new.is_from_me, new.is_group, new.text, new.sent_at,
          CASE WHEN new.is_from_me = 1 THEN '{"kind":"owner"}'
            ELSE coalesce(new.provenance, json_object('kind', 'untrusted', 'source', 'non_owner_sender',
              'detail', new.channel || ' ' || coalesce(new.sender_name, new.sender))) END)
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem('new.channel', 'new.external_id')}
      END;
      CREATE TRIGGER memory_inbound_label AFTER UPDATE OF provenance ON inbound_messages
        WHEN new.provenance IS NOT NULL AND new.is_from_me = 0 BEGIN
        UPDATE memory_items SET provenance = new.provenance,
          from_owner = CASE WHEN json_extract(new.provenance, '$.kind') = 'owner' THEN 1 ELSE 0 END
          WHERE channel = new.channel AND guid = new.external_id;
      END;

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
        ${indexItem('new.channel', "'outbox:' || new.id")}
      END;

      CREATE TRIGGER memory_from_turn AFTER INSERT ON messages
        WHEN new.role IN ('user', 'assistant') AND (SELECT key FROM sessions WHERE id = new.session_id) = 'local' BEGIN
        INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
        SELECT 'turn', 'pavise', new.session_id, 'Pavise', 'turn:' || new.id,
          CASE new.role WHEN 'user' THEN 'owner' ELSE 'pavise' END, CASE new.role WHEN 'user' THEN NULL ELSE 'Pavise' END,
          CASE WHEN new.role = 'user' AND json_extract(coalesce(new.provenance, '{}'), '$.kind') = 'owner' THEN 1 ELSE 0 END, 0, t.text, new.created_at,
          CASE new.role WHEN 'user' THEN coalesce(new.provenance, '{"kind":"untrusted","source":"tool_output","detail":"stored text of unknown origin"}')
            ELSE coalesce((SELECT m.provenance FROM messages m WHERE m.session_id = new.session_id AND m.provenance IS NOT NULL
                      ORDER BY CASE json_extract(m.provenance, '$.kind') WHEN 'untrusted' THEN 0 WHEN 'contact' THEN 1 ELSE 2 END LIMIT 1),
                   '{"kind":"owner"}') END
        FROM (SELECT CASE new.role WHEN 'user' THEN json_extract(new.content, '$.content') ELSE
                (SELECT group_concat(json_extract(b.value, '$.text'), '') FROM json_each(new.content, '$.content') b
                 WHERE json_extract(b.value, '$.type') = 'text') END AS text) t
        WHERE t.text IS NOT NULL AND t.text != ''
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem("'pavise'", "'turn:' || new.id")}
      END;

      CREATE TRIGGER memory_from_note AFTER INSERT ON notes BEGIN
        INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
        VALUES ('note', 'notes', 'notes', 'notes', 'note:' || new.id, 'owner', NULL,
          CASE WHEN json_extract(new.provenance, '$.kind') = 'owner' THEN 1 ELSE 0 END, 0, new.text, new.created_at, new.provenance)
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem("'notes'", "'note:' || new.id")}
      END;

      INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
        SELECT 'note', 'notes', 'notes', 'notes', 'note:' || id, 'owner', NULL,
          CASE WHEN json_extract(provenance, '$.kind') = 'owner' THEN 1 ELSE 0 END, 0, text, created_at, provenance FROM notes;
      INSERT INTO memory_fts (rowid, text, who, place) SELECT ${FTS_VALUES} FROM memory_items i;
    `);
  },
};
