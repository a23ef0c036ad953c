import { Activity, AlarmClock, Brain, Gauge, MessageCircle, Puzzle, SlidersHorizontal, CircleAlert, FolderOpen, Mail, House } from 'lucide-react';
import { useRef, type ComponentType, type KeyboardEvent } from 'react';
import { SECTIONS, type SectionId } from '../store/settings-slice.js';
import { usePavise } from '../store/store.js';
import { ActivityPane } from './ActivityPane.js';
import { SkillsPane } from './SkillsPane.js';
import { ChannelsPane } from './ChannelsPane.js';
import { GeneralPane } from './GeneralPane.js';
import { LimitsPane } from './LimitsPane.js';
import { MemoryPane } from './MemoryPane.js';
import { PlaceholderPane } from './PlaceholderPane.js';
import { SchedulesPane } from './SchedulesPane.js';
import { FilesWebPane } from './FilesWebPane.js';
import { MailPane } from './MailPane.js';
import { HomePane } from './HomePane.js';

type IconType = ComponentType<{ size?: number; strokeWidth?: number; 'aria-hidden'?: boolean }>;

const SECTION_INFO: Readonly<Record<SectionId, { readonly label: string; readonly icon: IconType }>> = {
  general: { label: 'General', icon: SlidersHorizontal },
  channels: { label: 'Channels', icon: MessageCircle },
  files: { label: 'Files & Web', icon: FolderOpen },
  mail: { label: 'Mail', icon: Mail },
  home: { label: 'Home', icon: House },
  skills: { label: 'Skills', icon: Puzzle },
  memory: { label: 'Memory', icon: Brain },
  schedules: { label: 'Schedules', icon: AlarmClock },
  limits: { label: 'Limits', icon: Gauge },
  activity: { label: 'Activity', icon: Activity },
};

/** The preferences window: a sidebar of sections and one pane. */
export function Settings() {
  const section = usePavise((state) => state.section);
  const setSection = usePavise((state) => state.setSection);
  const navRef = useRef<HTMLUListElement>(null);

  const choose = (next: SectionId) => {
    setSection(next);
    const url = new URL(location.href);
    url.searchParams.set('section', next);
    history.replaceState(null, '', url);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const index = SECTIONS.indexOf(section) + (event.key === 'ArrowDown' ? 1 : -1);
    const next = SECTIONS[Math.max(0, Math.min(SECTIONS.length - 1, index))] ?? section;
    choose(next);
    navRef.current?.querySelector<HTMLElement>(`[data-section="${next}"]`)?.focus();
  };

  return (
    <div className="settings">
      <nav className="sidebar" aria-label="Settings">
        <ul ref={navRef} onKeyDown={onKeyDown}>
          {SECTIONS.map((id) => {
            const { label, icon: Icon } = SECTION_INFO[id];
            return (
              <li key={id}>
                <button type="button" className="sidebar-item" data-section={id} aria-current={id === section ? 'page' : undefined} onClick={() => choose(id)}>
                  <Icon size={16} strokeWidth={1.75} aria-hidden />
                  {label}
                </button>
              </li>
            );
          })}
        </ul>
      </nav>
      <main className="pane" aria-labelledby="pane-title">
        <h1 className="pane-title" id="pane-title">
          {SECTION_INFO[section].label}
        </h1>
        <div className="pane-body" key={section}>
          <Pane section={section} />
        </div>
      </main>
    </div>
  );
}

function Pane({ section }: { readonly section: SectionId }) {
  const settings = usePavise((state) => state.settings);
  const error = usePavise((state) => state.settingsError);
  if (section === 'skills') return <SkillsPane />;
  if (section === 'memory') return <MemoryPane />;
  if (section === 'activity') return <ActivityPane />;
  if (section === 'schedules') return <SchedulesPane />;
  if (error)
    return (
      <p className="inline-error" role="alert">
        <CircleAlert size={12} strokeWidth={2} aria-hidden />
        Settings could not be read: {error}
      </p>
    );
  if (!settings) return <p className="secondary">Loading…</p>;
  switch (section) {
    case 'general':
      return <GeneralPane settings={settings} />;
    case 'channels':
      return <ChannelsPane settings={settings} />;
    case 'limits':
      return <LimitsPane settings={settings} />;
    case 'files':
      return <FilesWebPane settings={settings} />;
    case 'mail':
      return <MailPane settings={settings} />;
    case 'home':
      return <HomePane settings={settings} />;
  }
}
