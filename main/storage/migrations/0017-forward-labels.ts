import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Repairs the labels the gateway gave messages once it knew their sender's role (ChannelStore.setStatus), which
 * memory copies onto what it remembered (0006's memory_inbound_label):
 *
 * - a forward the owner passed on was labelled as the owner's words, though it is someone else's text (the gateway
 *   answered it as untrusted): it is labelled untrusted, and memory follows through that trigger;
 * - the echo of Pavise's own send in the owner's chat with their own number (role `self`, not "from me") was
 *   labelled as the owner's, overwriting the label 0016 remembered it with (Pavise's words, which may carry a web
 *   page's or a stranger's). That label is not kept anywhere else, so the remembered copy is labelled as Pavise's
 *   words of unknown origin: untrusted, never the owner's. Such a row no longer has a label of its own.
 */
export const migration0017: Migration = {
  version: 17,
  name: 'forward-labels',
  up(db: Database): void {
    db.exec(`
      UPDATE inbound_messages SET provenance = json_object('kind', 'untrusted', 'source', 'non_owner_sender',
          'detail', 'forwarded or quoted from someone else by ' || channel || ' ' || coalesce(sender_name, sender))
        WHERE kind = 'forwarded' AND provenance IS NOT NULL;

      UPDATE memory_items SET from_owner = 0,
          provenance = '{"kind":"untrusted","source":"tool_output","detail":"Pavise''s own message echoed back, remembered before its label was kept"}'
        WHERE (channel, guid) IN (SELECT channel, external_id FROM inbound_messages WHERE role = 'self' AND is_from_me = 0)
          AND json_extract(provenance, '$.kind') = 'owner';
      UPDATE inbound_messages SET provenance = NULL WHERE role = 'self' AND is_from_me = 0;
    `);
  },
};
