import type { ComponentType } from 'react';

/** A calm placeholder for a pane that arrives later, leaving its room in the window. */
export function PlaceholderPane({ icon: Icon, title, detail }: { readonly icon: ComponentType<{ size?: number; strokeWidth?: number; 'aria-hidden'?: boolean }>; readonly title: string; readonly detail: string }) {
  return (
    <div className="placeholder">
      <Icon size={16} strokeWidth={1.75} aria-hidden />
      <p className="placeholder-title">{title}</p>
      <p className="secondary">{detail}</p>
    </div>
  );
}
