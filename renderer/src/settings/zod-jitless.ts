import { z } from 'zod';

// The window's CSP forbids eval. Zod probes for it (with `Function('')`) when a schema is created unless told not to
// compile parsers, so this module is imported before anything that creates schemas (main/common/ipc.ts).
z.config({ jitless: true });
