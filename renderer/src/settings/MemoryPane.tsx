import { CircleAlert, Download, Search, ShieldAlert, Trash2 } from 'lucide-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { MemoryView } from '../../../main/common/memory-view.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { usePavise } from '../store/store.js';

const ORIGIN = { owner: 'written by you', tool: 'remembered in a conversation', extraction: 'kept when a conversation was summarised' } as const;

function monthOf(ms: number): string {
  return new Date(ms).toLocaleDateString(undefined, { year: 'numeric', month: 'long' });
}

function dayOf(ms: number): string {
  return new Date(ms).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** What Pavise remembers: search, browse by person and by month, each memory with its label and source; add, forget, export. */
export function MemoryPane() {
  const listing = usePavise(useShallow((state) => state.memory));
  const filter = usePavise((state) => state.memoryFilter);
  const memoryState = usePavise((state) => state.memoryState);
  const error = usePavise((state) => state.memoryError);
  const load = usePavise((state) => state.loadMemory);
  const setFilter = usePavise((state) => state.setMemoryFilter);
  const [query, setQuery] = useState(filter.query);

  useEffect(() => {
    void load();
  }, [load]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    void setFilter({ query });
  };

  const months: { month: string; memories: MemoryView[] }[] = [];
  for (const memory of listing.memories) {
    const month = monthOf(memory.updatedAt);
    const last = months.at(-1);
    if (last && last.month === month) last.memories.push(memory);
    else months.push({ month, memories: [memory] });
  }

  return (
    <div className="memory">
      {/* Three rows that fit the settings window's narrowest width without clipping a placeholder: what to look for,
          what to show and take away, what to add. */}
      <div className="toolbar">
        <form className="toolbar-field memory-search" role="search" onSubmit={search}>
          <label htmlFor="memory-query" className="sr-only">
            Search memories and messages
          </label>
          <input id="memory-query" className="input" type="search" placeholder="Search" value={query} onChange={(event) => setQuery(event.target.value)} />
          <button type="submit" className="btn" aria-label="Search">
            <Search size={14} strokeWidth={1.75} aria-hidden />
          </button>
        </form>
        <div className="toolbar-field">
          <label htmlFor="memory-person">From</label>
          <select id="memory-person" className="select" value={filter.person} onChange={(event) => void setFilter({ person: event.target.value })}>
            <option value="">Everyone</option>
            {listing.people.map((person) => (
              <option key={person.key} value={person.key}>
                {person.label} ({person.count})
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="toolbar">
        <label className="toolbar-field">
          <input type="checkbox" className="checkbox" checked={filter.includeReplaced} onChange={(event) => void setFilter({ includeReplaced: event.target.checked })} />
          Show replaced
        </label>
        <span className="toolbar-spacer" />
        <ExportMenu />
      </div>
      <AddMemory />
      {error ? (
        <p className="inline-error" role="alert">
          <CircleAlert size={12} strokeWidth={2} aria-hidden />
          {error}
        </p>
      ) : null}
      <div className="memory-list" tabIndex={0} role="region" aria-label="Memories">
        {months.map(({ month, memories }) => (
          <section key={month} aria-label={month}>
            <h2 className="group-title">{month}</h2>
            <ul className="group-box memory-items">
              {memories.map((memory) => (
                <MemoryRow key={memory.id} memory={memory} />
              ))}
            </ul>
          </section>
        ))}
        {listing.memories.length === 0 && memoryState !== 'loading' ? (
          <p className="table-empty secondary">{filter.query || filter.person ? 'No memories match.' : 'Pavise has not remembered anything yet. Facts you tell it, and ones you add here, appear in this list.'}</p>
        ) : null}
        {filter.query ? <Recalled /> : null}
      </div>
    </div>
  );
}

function MemoryRow({ memory }: { readonly memory: MemoryView }) {
  const forget = usePavise((state) => state.forgetMemory);
  const [confirming, setConfirming] = useState(false);
  const untrusted = memory.provenance.kind !== 'owner';
  const source = memory.sources[0];
  return (
    <li className={`memory-item${memory.supersededBy !== undefined ? ' replaced' : ''}`} data-memory-id={memory.id}>
      <div className="memory-main">
        <p className="memory-text">
          {untrusted ? (
            <span className="badge untrusted-badge">
              <ShieldAlert size={12} strokeWidth={2} aria-hidden />
              Not from you
            </span>
          ) : null}
          <span className="memory-words">{revealInvisible(memory.text)}</span>
        </p>
        <p className="memory-meta secondary">
          #{memory.id} · from {memory.from} · {ORIGIN[memory.origin]} · {dayOf(memory.updatedAt)}
          {source ? ` · source: ${source.kind === 'message' ? 'conversation' : 'message'} ${source.ref}` : ''}
          {memory.supersededBy !== undefined ? ` · replaced by #${memory.supersededBy}` : ''}
        </p>
      </div>
      {confirming ? (
        <div className="memory-actions" role="group" aria-label={`Forget memory #${memory.id}?`}>
          <button type="button" className="btn" onClick={() => setConfirming(false)}>
            Keep
          </button>
          <button type="button" className="btn btn-danger" onClick={() => void forget(memory.id)}>
            Forget
          </button>
        </div>
      ) : (
        <button type="button" className="icon-button" aria-label={`Forget memory #${memory.id}`} onClick={() => setConfirming(true)}>
          <Trash2 size={14} strokeWidth={1.75} aria-hidden />
        </button>
      )}
    </li>
  );
}

function Recalled() {
  const recalled = usePavise(useShallow((state) => state.memory.recalled));
  const notice = usePavise((state) => state.memory.notice);
  return (
    <section aria-label="Messages">
      <h2 className="group-title">Messages</h2>
      {notice ? <p className="secondary">{notice}</p> : null}
      {recalled.length === 0 ? (
        <p className="table-empty secondary">No remembered messages match.</p>
      ) : (
        <ul className="group-box memory-items">
          {recalled.map((item) => (
            <li key={item.id} className="memory-item">
              <div className="memory-main">
                <p className="memory-text">
                  {item.untrusted ? (
                    <span className="badge untrusted-badge">
                      <ShieldAlert size={12} strokeWidth={2} aria-hidden />
                      Not from you
                    </span>
                  ) : null}
                  <span className="memory-words">{revealInvisible(item.text)}</span>
                </p>
                <p className="memory-meta secondary">
                  {dayOf(item.at)} · {item.sender} · from {item.from} · {item.source}
                </p>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AddMemory() {
  const add = usePavise((state) => state.addMemory);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    if (await add(text.trim())) setText('');
    setBusy(false);
    input.current?.focus();
  };
  return (
    <form className="inline-add memory-add" onSubmit={(event) => void submit(event)}>
      <label htmlFor="memory-add" className="sr-only">
        Something Pavise should remember
      </label>
      <input id="memory-add" ref={input} className="input" placeholder="Add a memory, e.g. “Mum’s birthday is 12 March”" maxLength={2000} value={text} onChange={(event) => setText(event.target.value)} />
      <button type="submit" className="btn" disabled={busy || !text.trim()}>
        Remember
      </button>
    </form>
  );
}

function ExportMenu() {
  const exportMemory = usePavise((state) => state.exportMemory);
  const save = async (format: 'jsonl' | 'md') => {
    const file = await exportMemory(format);
    if (!file) return;
    const url = URL.createObjectURL(new Blob([file.text], { type: format === 'md' ? 'text/markdown' : 'application/x-ndjson' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = file.filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };
  return (
    <div className="toolbar-field" role="group" aria-label="Export">
      <button type="button" className="btn" onClick={() => void save('md')}>
        <Download size={14} strokeWidth={1.75} aria-hidden />
        Export Markdown
      </button>
      <button type="button" className="btn" onClick={() => void save('jsonl')}>
        JSON lines
      </button>
    </div>
  );
}
