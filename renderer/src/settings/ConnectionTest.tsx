import { CircleAlert, CircleCheck } from 'lucide-react';
import type { ConnectionTestView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { StatusLine } from './Form.js';

/** A "Test" button and what the test found, part by part, in words. */
export function ConnectionTest({ testKey, label, run }: { readonly testKey: string; readonly label: string; readonly run: () => Promise<void> }) {
  const status = usePavise((state) => state.forms[`test:${testKey}`]);
  const result: ConnectionTestView | undefined = usePavise((state) => state.connectionTests[testKey]);
  const testing = status?.state === 'saving';
  return (
    <div className="connection-test">
      <button type="button" className="btn" aria-label={label} disabled={testing} onClick={() => void run()}>
        {testing ? 'Testing…' : 'Test'}
      </button>
      {status?.state === 'error' ? <StatusLine status={status} /> : null}
      {result && !testing ? (
        <ul className="test-results" aria-label={`${label}: result`} aria-live="polite">
          {result.parts.map((part) => (
            <li key={part.name} className={part.ok ? 'test-ok' : 'test-failed'}>
              {part.ok ? <CircleCheck size={12} strokeWidth={2} aria-hidden /> : <CircleAlert size={12} strokeWidth={2} aria-hidden />}
              <strong>{part.name}</strong> {part.ok ? 'works' : 'failed'}: {part.detail}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
