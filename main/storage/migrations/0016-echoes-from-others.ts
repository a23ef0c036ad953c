import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';
import { CONVERSATION_SESSION, ECHOED, indexItem, sessionLabel, weaker } from './0014-sent-labels.js';

/**
 * An iMessage that repeats what Pavise just sent in that chat is its echo, also when it is not "from me": in the
 * owner's chat with their own number, what this Mac sends arrives again as the owner's message. The gateway ignores
 * such an echo (Gateway.#handle, Outbox.sentRecently: within a minute, the whole text, a part of 100 characters or
 * more, or the last chunk of a message sent in chunks); memory now matches it the same way, so Pavise's words (which
 * may carry a web page's or a stranger's) are remembered with their own label, never as the owner's, and a notice's
 * echo is not remembered at all. Telegram is left as it was: a bot never receives its own messages.
 */
const ECHOED_AS_RECEIVED = `(SELECT o.id FROM outbox o WHERE o.channel = new.channel AND o.conversation_id = new.conversation_id
  AND o.status IN ('sent', 'sending', 'uncertain') AND o.updated_at >= new.sent_at - 60000
  AND (o.text = new.text OR trim(o.text) = trim(new.text)
    OR (length(trim(new.text)) >= 100 AND instr(o.text, trim(new.text)) > 0)
    OR (length(o.text) > 2000 AND substr(rtrim(o.text, ' ' || char(9) || char(10) || char(13)), -length(trim(new.text))) = trim(new.text)))
  ORDER BY o.id DESC LIMIT 1)`;

export const migration0016: Migration = {
  version: 16,
  name: 'echoes-from-others',
  up(db: Database): void {
    db.exec(`
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
        FROM (SELECT 1) LEFT JOIN outbox e ON e.id = CASE WHEN new.is_from_me = 1 THEN ${ECHOED}
          WHEN new.channel = 'imessage' THEN ${ECHOED_AS_RECEIVED} END
        WHERE e.id IS NULL OR e.notice = 0
        ON CONFLICT (channel, guid) DO NOTHING;
        ${indexItem('new.channel', 'new.external_id')}
      END;
    `);
  },
};
