/** Polls until `condition` holds; on timeout fails naming what it waited for, with any output collected so far. */
export async function until(condition: () => boolean, what: string, options: { timeoutMs?: number; output?: () => string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.output ? `\n${options.output()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
