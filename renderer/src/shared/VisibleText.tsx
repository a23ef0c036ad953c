import { splitMarks } from '../popover/approval-content.js';

/** Text already passed through revealInvisible, with each invisible-character mark drawn as a visible chip. */
export function VisibleText({ text }: { readonly text: string }) {
  return (
    <>
      {splitMarks(text).map((part, index) =>
        part.mark ? (
          <mark key={index} className="invisible-mark" title={`A hidden character (${part.text.slice(1, -1)}) is here`}>
            {part.text}
          </mark>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
