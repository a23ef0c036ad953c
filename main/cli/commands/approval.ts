/**
 * Until the permission gate lands (security issue), the terminal allows every tool call and says so, so nobody
 * mistakes the silence for a decision.
 */
export function autoApproveNotice(description: string): string {
  return `  ↳ auto-approved (no permission gate yet): ${description}\n`;
}
