import { CircleAlert, Check } from 'lucide-react';
import { useId, type ReactNode } from 'react';
import type { FormStatus } from '../store/settings-slice.js';

/** A titled group of rows, like a macOS preferences box. */
export function Group({ title, children, footer, description }: { readonly title: string; readonly children: ReactNode; readonly footer?: ReactNode; readonly description?: ReactNode }) {
  const id = useId();
  return (
    <section className="group" aria-labelledby={id}>
      <h2 className="group-title" id={id}>
        {title}
      </h2>
      {description ? <p className="group-description">{description}</p> : null}
      <div className="group-box">{children}</div>
      {footer ? <div className="group-footer">{footer}</div> : null}
    </section>
  );
}

/** Label left, control right, help in secondary text below; an error in words replaces nothing and says what to do. */
export function Row({
  label,
  htmlFor,
  help,
  error,
  children,
  labelId,
}: {
  readonly label: string;
  readonly htmlFor?: string;
  readonly help?: ReactNode;
  readonly error?: string | undefined;
  readonly children: ReactNode;
  readonly labelId?: string;
}) {
  return (
    <div className={error ? 'row has-error' : 'row'}>
      <div className="row-main">
        {htmlFor ? (
          <label className="row-label" htmlFor={htmlFor} id={labelId}>
            {label}
          </label>
        ) : (
          <span className="row-label" id={labelId}>
            {label}
          </span>
        )}
        <div className="row-control">{children}</div>
      </div>
      {help ? (
        <p className="row-help" id={htmlFor ? `${htmlFor}-help` : undefined}>
          {help}
        </p>
      ) : null}
      {error ? (
        <p className="row-error" id={htmlFor ? `${htmlFor}-error` : undefined}>
          <CircleAlert size={12} strokeWidth={2} aria-hidden />
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** aria-describedby for a control in a Row: its help, and its error when there is one. */
export function describedBy(id: string, help: boolean, error: string | undefined): string | undefined {
  const ids = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** "Saving…", "Saved.", or the error in words, next to a form's button. */
export function StatusLine({ status }: { readonly status: FormStatus | undefined }) {
  if (!status || status.state === 'idle') return <span className="status-line-text" aria-live="polite" />;
  if (status.state === 'saving') return <span className="status-line-text secondary" aria-live="polite">Saving…</span>;
  if (status.state === 'saved')
    return (
      <span className="status-line-text ok" aria-live="polite">
        <Check size={12} strokeWidth={2.5} aria-hidden />
        {status.message}
      </span>
    );
  return (
    <span className="status-line-text error" role="alert">
      <CircleAlert size={12} strokeWidth={2} aria-hidden />
      {status.message}
    </span>
  );
}
