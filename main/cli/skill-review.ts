import type { SkillRecord } from '../storage/skill-store.js';
import { shown } from './printable.js';
import { permissionIds, type SkillPermissions } from '../skills/permissions.js';
import type { SkillReview } from '../skills/review.js';

/** The review as the terminal shows it before anything is granted. */
export function formatSkillReview(review: SkillReview): string {
  const { manifest, content, findings, warnings } = review;
  const lines = [
    `Skill: ${manifest.name}  (${manifest.code ? 'code skill' : 'instructions only'})`,
    `  ${shown(manifest.description)}`,
    `  author: ${shown(manifest.author ?? 'not given')}   licence: ${shown(manifest.license ?? 'not given')}${manifest.compatibility ? `   compatibility: ${shown(manifest.compatibility)}` : ''}`,
    `  from: ${shown(review.source)}`,
    `  SHA-256: ${content.hash}`,
    `  files (${content.files.length}, ${content.totalBytes} bytes):`,
    ...content.files.map((file) => `    ${file.executable ? 'x' : '-'} ${String(file.size).padStart(8)}  ${shown(file.path)}`),
  ];
  if (manifest.code) {
    lines.push(`  tools:`);
    for (const tool of manifest.code.tools) lines.push(`    ${tool.name}: ${shown(tool.description)}  effects: ${tool.effects.map((effect) => effect.kind).join(', ') || 'none'}`);
  }
  const asked = permissionIds(manifest.permissions);
  lines.push(`  permissions asked for: ${asked.length === 0 ? 'none' : ''}`, ...asked.map((id) => `    ${shown(id)}`));
  lines.push(`  static scan: ${findings.length === 0 ? 'nothing found' : `${findings.length} finding(s)`}`);
  for (const finding of findings) lines.push(`    ${finding.severity.toUpperCase()} ${finding.rule} — ${shown(finding.file)}${finding.line ? `:${finding.line}` : ''}  ${shown(finding.excerpt)}`);
  for (const warning of warnings) lines.push(`  warning: ${shown(warning)}`);
  return `${lines.join('\n')}\n`;
}

export function formatGrant(granted: SkillPermissions): string {
  const ids = permissionIds(granted);
  return ids.length === 0 ? 'nothing' : shown(ids.join(', '));
}

export function skillJson(record: SkillRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: record.name, state: record.state, hash: record.contentHash, granted: record.granted, source: record.source, installedAt: record.installedAt, updatedAt: record.updatedAt, ...extra };
}
