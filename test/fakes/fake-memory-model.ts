/**
 * What a model answers to Pavise's memory-extraction call (main/memory/compaction.ts), scripted: the running summary
 * is the previous one plus a line per owner message, cut to a fixed size, and the facts are the owner's first-person
 * statements ("My sister is called Ada."). Untrusted text is extracted too, as the claim it is, so tests can check
 * that its label survives. Deterministic; no model behind it.
 */
export const EXTRACTION_MARKER = 'You keep the memory of a personal assistant.';

const SUMMARY_LIMIT = 900;

export function isExtractionRequest(system: string | undefined): boolean {
  return typeof system === 'string' && system.startsWith(EXTRACTION_MARKER);
}

export function fakeExtraction(userContent: string): string {
  const previous = /Summary so far:\n([\s\S]*?)\n\nNext part of the conversation:/.exec(userContent)?.[1] ?? '';
  const part = userContent.split('Next part of the conversation:\n')[1] ?? '';
  const lines = part.split('\n');
  const facts: { text: string }[] = [];
  const notes: string[] = [];
  for (const [index, line] of lines.entries()) {
    const owner = /^\[owner\] (.*)$/.exec(line)?.[1];
    if (owner !== undefined) {
      notes.push(owner.slice(0, 60));
      for (const sentence of owner.split(/(?<=[.!?])\s+/)) {
        if (/^(my|i am|i'm|i live|i prefer|remember that)\b/i.test(sentence.trim())) facts.push({ text: sentence.trim().replace(/^remember that\s+/i, '') });
      }
    }
    if (line.includes('<untrusted')) {
      const body = lines[index + 1] ?? '';
      notes.push(`someone else wrote: ${body.slice(0, 80)}`);
      const claim = /remember that (.*)$/i.exec(body)?.[1];
      if (claim) facts.push({ text: claim });
    }
  }
  const base = previous === '(none yet)' ? '' : previous;
  const summary = `${base}\n${notes.map((note) => `- ${note}`).join('\n')}`.trim().slice(-SUMMARY_LIMIT) || 'Nothing of note.';
  return JSON.stringify({ summary, facts });
}
