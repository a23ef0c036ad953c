import { useId, useState } from 'react';
import { VisibleText } from '../shared/VisibleText.js';
import { needsFold, type ContentPiece } from './approval-content.js';

/** The exact content an approval covers, in a quoted block; long content folds behind "Show all". */
export function ExactContent({ piece }: { readonly piece: ContentPiece }) {
  switch (piece.kind) {
    case 'text':
      return <QuotedText label={piece.label} text={piece.text} />;
    case 'argv':
      return (
        <figure className="exact">
          <figcaption className="exact-label">{piece.label}</figcaption>
          <ol className="argv">
            {piece.argv.map((arg, index) => (
              <li key={index}>
                <code>
                  <VisibleText text={arg} />
                </code>
              </li>
            ))}
          </ol>
          {piece.cwd ? (
            <p className="exact-note">
              in <code>{piece.cwd}</code>
            </p>
          ) : null}
        </figure>
      );
    case 'fields':
      return (
        <figure className="exact">
          <figcaption className="exact-label">{piece.label}</figcaption>
          <dl className="exact-fields">
            {piece.fields.map(([name, value]) => (
              <div key={name} className="exact-field">
                <dt>{name}</dt>
                <dd>
                  <VisibleText text={value} />
                </dd>
              </div>
            ))}
          </dl>
        </figure>
      );
  }
}

function QuotedText({ label, text }: { readonly label: string; readonly text: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const long = needsFold(text);
  const folded = long && !open;
  return (
    <figure className="exact">
      <figcaption className="exact-label">{label}</figcaption>
      <blockquote id={id} className={folded ? 'quote folded' : 'quote'} data-folded={folded ? 'true' : undefined}>
        <VisibleText text={text} />
      </blockquote>
      {long ? (
        <button type="button" className="link-button" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
          {open ? 'Show less' : `Show all (${text.length.toLocaleString()} characters)`}
        </button>
      ) : null}
    </figure>
  );
}
