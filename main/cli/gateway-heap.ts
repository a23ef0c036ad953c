import { setFlagsFromString } from 'node:v8';

/**
 * V8 heap limits for `pavise gateway`: a long-running process, idle most of the time, whose RSS under a burst of
 * messages is a measured target (`npm run bench -- flood`). main.ts calls this before the gateway's modules load,
 * because loading and composing them is what first grows the young generation. Both flags are read by V8 at each
 * resize or collection, so setting them at run time takes effect from then on.
 */
export function limitGatewayHeap(): void {
  // The young generation: V8 doubles it whenever a scavenge finds it full, up to 64 MB, and keeps it. Growth factor
  // 1 keeps it at its start size. Set in the gateway command, after its ~1 MB of bundled code had loaded, it found
  // the young generation already grown to 16 MB; set here, it stays at 2 MB (flood bench: idle RSS 112 → 104–106 MB,
  // peak 152–162 → 144–150 MB), at the price of more scavenges, and earlier promotion, during a burst.
  setFlagsFromString('--semi-space-growth-factor=1');
  // The old generation: by default V8 lets it reach several times what is live before a full collection (a burst's
  // garbage took the heap from 30 to 90 MB, and the pages stayed). 15 % over what survived the last collection
  // keeps it near the live size (flood bench: second burst +1.2 MB instead of +9 to +47 MB), at the price of more
  // frequent full collections during a burst.
  setFlagsFromString('--heap-growing-percent=15');
}
