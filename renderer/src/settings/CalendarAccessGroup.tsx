import { ExternalLink } from 'lucide-react';
import { usePavise } from '../store/store.js';
import { Group, Row } from './Form.js';

const PANES = [
  {
    pane: 'calendars',
    label: 'Calendars',
    help: 'Pavise reads and changes events through macOS (every account you added in Calendar). macOS asks once; if you said no, allow Pavise in Privacy & Security › Calendars.',
  },
  {
    pane: 'contacts',
    label: 'Contacts',
    help: 'Pavise finds the numbers and emails of people you name ("text Mum") in your address book. If you said no, allow Pavise in Privacy & Security › Contacts.',
  },
] as const;

/** Where the owner allows the calendar and contacts tools: a deep link to each System Settings pane. */
export function CalendarAccessGroup() {
  const openPane = usePavise((state) => state.openPane);
  const forms = usePavise((state) => state.forms);
  return (
    <Group title="Calendar & Contacts">
      {PANES.map(({ pane, label, help }) => {
        const status = forms[`pane:${pane}`];
        return (
          <Row key={pane} label={label} labelId={`${pane}-access-label`} help={help} error={status?.state === 'error' ? status.message : undefined}>
            <button type="button" className="btn" data-pane={pane} onClick={() => void openPane(pane)}>
              Open Privacy Settings
              <ExternalLink size={12} strokeWidth={2} aria-hidden />
            </button>
          </Row>
        );
      })}
    </Group>
  );
}
