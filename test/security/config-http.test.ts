import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/config/config.js';

/** Plain http lets anyone on the network path read the prompts (the owner's data) and forge the model's answers. */
describe('http:// only for loopback servers', () => {
  const model = (baseURL: string) => JSON.stringify({ model: { provider: 'openai-compatible', name: 'llama', baseURL } });
  const telegram = (apiRoot: string) => JSON.stringify({ channels: { telegram: { apiRoot } } });

  it.each(['http://192.168.1.20:11434/v1', 'http://ollama.lan/v1', 'http://127.0.0.1.evil.test/v1', 'http://[::2]/v1', 'http://localhost.evil.test/v1', 'http://127.0.0.1@evil.test/v1'])(
    'model.baseURL %s is refused with the field, the value and the fix',
    (url) => {
      expect(() => parseConfig(model(url))).toThrow(new RegExp(`model\\.baseURL is "${url.replace(/[.[\]]/g, '\\$&')}": plain http .*use https`));
    },
  );

  it('channels.telegram.apiRoot over http to another host is refused', () => {
    expect(() => parseConfig(telegram('http://bot-api.example.com'))).toThrow(/channels\.telegram\.apiRoot is "http:\/\/bot-api\.example\.com": plain http .*use https/);
  });

  it.each(['http://localhost:11434/v1', 'http://127.0.0.1:1234/v1', 'http://127.8.9.10/v1', 'http://[::1]:8080/v1', 'https://openrouter.ai/api/v1'])('%s is accepted', (url) => {
    expect(parseConfig(model(url)).model.baseURL).toBe(url);
    expect(parseConfig(telegram(url)).channels.telegram.apiRoot).toBe(url);
  });
});
