import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { APP_ORIGIN } from './security.js';

export type RendererView = 'popover' | 'settings';

/**
 * The app:// URL of a view: `popover.html` / `settings.html` when the renderer builds one page per window (it
 * does), otherwise a single `index.html?view=…`. The settings section travels as `?section=`, which the settings
 * page reads when it loads.
 */
export function rendererUrl(root: string, view: RendererView, section?: string): string {
  const perView = existsSync(join(root, `${view}.html`));
  const query = new URLSearchParams(perView ? {} : { view });
  if (section) query.set('section', section);
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return `${APP_ORIGIN}/${perView ? `${view}.html` : 'index.html'}${search}`;
}
