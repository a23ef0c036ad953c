/**
 * A small typed event emitter: listeners run synchronously, in the order they subscribed, and `on` answers the
 * function that unsubscribes. Used wherever one part of the core tells others that something happened.
 */
export class Emitter<Events extends { readonly [name: string]: readonly unknown[] }> {
  readonly #listeners: { [K in keyof Events]?: Set<(...args: Events[K]) => void> } = {};

  on<K extends keyof Events>(name: K, listener: (...args: Events[K]) => void): () => void {
    const listeners = (this.#listeners[name] ??= new Set());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  emit<K extends keyof Events>(name: K, ...args: Events[K]): void {
    for (const listener of [...(this.#listeners[name] ?? [])]) listener(...args);
  }

  listenerCount(name: keyof Events): number {
    return this.#listeners[name]?.size ?? 0;
  }
}
