import { ENTITY_ID } from '../../common/effects.js';
import type { SecretStore } from '../../secrets/secret-store.js';

export const HOME_ASSISTANT_SECRET = 'home-assistant';

export class HomeError extends Error {
  override readonly name = 'HomeError';
}

export interface EntityState {
  readonly entity_id: string;
  readonly state: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly last_changed?: string;
}

export { ENTITY_ID };

const TIMEOUT_MS = 15_000;

/** Home Assistant's REST API (/api/states, /api/services) with the long-lived token from the Keychain. */
export class HomeAssistantClient {
  constructor(
    readonly baseUrl: string,
    private readonly secrets: SecretStore,
  ) {}

  states(signal: AbortSignal): Promise<EntityState[]> {
    return this.#request('GET', '/api/states', undefined, signal) as Promise<EntityState[]>;
  }

  state(entity: string, signal: AbortSignal): Promise<EntityState> {
    if (!ENTITY_ID.test(entity)) throw new HomeError(`"${entity}" is not an entity id (like light.kitchen).`);
    return this.#request('GET', `/api/states/${entity}`, undefined, signal) as Promise<EntityState>;
  }

  callService(domain: string, service: string, data: Record<string, unknown>, signal: AbortSignal): Promise<EntityState[]> {
    if (!/^[a-z_]+$/.test(domain) || !/^[a-z_]+$/.test(service)) throw new HomeError(`"${domain}.${service}" is not a service (like light.turn_off).`);
    return this.#request('POST', `/api/services/${domain}/${service}`, data, signal) as Promise<EntityState[]>;
  }

  async #request(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const token = await this.secrets.get(HOME_ASSISTANT_SECRET);
    if (!token) throw new HomeError(`No Home Assistant token; create a long-lived access token in your Home Assistant profile and store it with \`pavise secrets set ${HOME_ASSISTANT_SECRET}\`.`);
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]),
      });
    } catch (error) {
      const { name, cause } = error as { name?: string; cause?: { code?: string; message?: string } };
      const why =
        name === 'TimeoutError'
          ? `no answer within ${TIMEOUT_MS / 1000} s`
          : cause?.code === 'ECONNREFUSED'
            ? 'connection refused'
            : cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN'
              ? 'its name does not resolve'
              : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)));
      throw new HomeError(`Home Assistant at ${url.origin} did not answer (${why}). Check that it is running and that home.assistant.url in config.json is its address.`);
    }
    if (response.status === 401) throw new HomeError(`Home Assistant refused the token; store a valid one with \`pavise secrets set ${HOME_ASSISTANT_SECRET}\`.`);
    if (response.status === 404) throw new HomeError(`Home Assistant has no ${path.startsWith('/api/states/') ? `entity ${path.slice(12)}` : `service ${path.slice(14).replace('/', '.')}`}.`);
    if (!response.ok) throw new HomeError(`Home Assistant answered HTTP ${response.status} for ${method} ${path}.`);
    return response.json();
  }
}
