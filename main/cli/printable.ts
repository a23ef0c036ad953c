/**
 * Text someone else wrote (a skill author, a skill's or MCP server's output in the activity log) as the terminal
 * shows it: control characters (escape sequences that move the cursor or erase lines, carriage returns, line breaks)
 * and bidirectional overrides are written out as `\uXXXX`, so nothing in it can rewrite or hide a line around it.
 */
export function shown(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
