import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../main/cli/args.js';

describe('parseCommandArgs', () => {
  it("keeps Node's whole hint for an option value starting with a dash, without a doubled full stop", () => {
    const parse = () => parseCommandArgs('imessage', ['tail', '--limit', '-1'], { limit: { type: 'string' } }, { min: 1, max: 1, usage: 'tail [--limit N]' });
    expect(parse).toThrow("Option '--limit' argument is ambiguous. Did you forget to specify the option argument for '--limit'?");
    expect(parse).toThrow("use '--limit=-XYZ'. Usage: pavise imessage tail [--limit N]");
    expect(parse).not.toThrow('..');
  });
});
