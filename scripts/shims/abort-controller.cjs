// Build-time stand-in for the `abort-controller` polyfill (pulled in by grammY): Node's own classes, because Node's
// fetch (see node-fetch.cjs) accepts only its own AbortSignal.
'use strict';
module.exports = { AbortController: globalThis.AbortController, AbortSignal: globalThis.AbortSignal, default: globalThis.AbortController };
