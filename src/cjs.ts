/**
 * The CommonJS packages dpdoctor uses, loaded with require() rather than an ESM import: importing a CommonJS package
 * from an ES module makes Node parse its whole source for named exports (cjs-module-lexer) at every start-up —
 * measured 2026-12-07 on the 2-core machine: saxes 22–35 ms imported vs 5–8 ms required, commander 26–39 ms vs
 * 15–21 ms, of a `dpdoctor check` start-up of about 0.25 s. Types come from the packages as before.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** saxes (src/config/xml.ts, src/probe/listing.ts). */
export function loadSaxes(): typeof import("saxes") {
  return require("saxes");
}

/** commander (src/cli.ts and the commands' options). */
export function loadCommander(): typeof import("commander") {
  return require("commander");
}
