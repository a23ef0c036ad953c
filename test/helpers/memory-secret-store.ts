import { checkSecretName, type SecretStore } from '../../main/secrets/secret-store.js';

/** A SecretStore in memory, for tests that are not about the keychain itself. */
export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();

  async get(name: string): Promise<string | undefined> {
    return this.values.get(name);
  }

  async set(name: string, value: string): Promise<void> {
    const problem = checkSecretName(name);
    if (problem) throw new Error(problem);
    this.values.set(name, value);
  }

  async delete(name: string): Promise<boolean> {
    return this.values.delete(name);
  }

  async list(): Promise<string[]> {
    return [...this.values.keys()].sort();
  }
}
