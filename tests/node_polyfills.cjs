// Loaded with `node --require` by the IPFS node fixture (tests/conftest.py): js-ipfs 0.66's newer
// dependencies call Promise.withResolvers, which Node.js has only from version 22.
"use strict";
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
