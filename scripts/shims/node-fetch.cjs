// Build-time stand-in for `node-fetch` (pulled in by grammY): Node's own fetch. node-fetch@2 loads whatwg-url@5,
// whose tr46 requires the deprecated `punycode` built-in (DEP0040), and calls `url.parse()` (DEP0169) on every
// request — the two warnings every start printed. Pavise sends only JSON bodies through grammY, which Node's fetch
// handles the same way.
'use strict';
module.exports = globalThis.fetch;
module.exports.default = globalThis.fetch;
