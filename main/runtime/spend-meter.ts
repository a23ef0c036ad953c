import type { ModelConfig } from '../common/config-schema.js';
import { costUsd, priceOf, startOfToday } from '../permissions/spend.js';
import type { SessionStore } from '../storage/session-store.js';

/** What was spent on model calls since local midnight, in USD, priced per provider and model of each call. */
export type SpendMeter = (now?: number) => number;

export function createSpendMeter(usage: Pick<SessionStore, 'usageSince'>, model: ModelConfig): SpendMeter {
  return (now = Date.now()) =>
    usage
      .usageSince(startOfToday(now))
      // The configured base URL prices only calls to the configured provider (a local server costs nothing).
      .reduce((sum, row) => sum + costUsd(priceOf(row.provider, row.model, row.provider === model.provider ? model.baseURL : undefined), row), 0);
}
