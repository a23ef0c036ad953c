import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake OpenAI-compatible `POST /v1/embeddings` on 127.0.0.1 (an ephemeral port), answering in the real wire format
 * (`{ object: 'list', data: [{ object: 'embedding', index, embedding }], model, usage }`). Vectors are deterministic:
 * each word of a text adds to one dimension (a hashing trick), so texts sharing words are near each other.
 * `dimensions` may be changed at any time (a server that switched models); `requests` records every body.
 */
export interface FakeEmbeddingsServer {
  readonly url: string;
  dimensions: number;
  /** Answer with this HTTP status instead of vectors. */
  failWith: number | undefined;
  readonly requests: { model: string; input: string[]; authorization: string | undefined }[];
  close(): Promise<void>;
}

export function fakeVector(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 2166136261;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 16777619);
    vector[(hash >>> 0) % dimensions]! += 1;
  }
  return vector;
}

export async function startFakeEmbeddings(dimensions = 64): Promise<FakeEmbeddingsServer> {
  const requests: FakeEmbeddingsServer['requests'] = [];
  const state = { dimensions, failWith: undefined as number | undefined };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/embeddings') {
        response.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(body) as { model: string; input: string | string[] };
      const input = Array.isArray(parsed.input) ? parsed.input : [parsed.input];
      requests.push({ model: parsed.model, input, authorization: request.headers.authorization });
      if (state.failWith !== undefined) {
        response.writeHead(state.failWith, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'failing on purpose' } }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          object: 'list',
          data: input.map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text, state.dimensions) })),
          model: parsed.model,
          usage: { prompt_tokens: input.length, total_tokens: input.length },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as FakeEmbeddingsServer;
}
