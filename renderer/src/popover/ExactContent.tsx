import { VisibleText } from '../shared/VisibleText.js';
import type { ContentPiece } from './approval-content.js';

/**
 * The exact content an approval covers, in a quoted block, always whole: long content scrolls inside the block and
 * is never cut or folded away (a hidden tail could carry a number or an address the owner never saw).
 */
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
  return (
    <figure className="exact">
      <figcaption className="exact-label">
        {label}
        {text.length > 280 ? <span className="exact-count"> · {text.length.toLocaleString()} characters, scroll to read all</span> : null}
      </figcaption>
      {/* Focusable so the keyboard can scroll it; labelled so a screen reader names what it is reading. */}
      <blockquote className="quote" tabIndex={0} aria-label={label}>
        <VisibleText text={text} />
      </blockquote>
    </figure>
  );
}
