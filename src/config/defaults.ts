/**
 * Schema defaults of `system.webServer/security/requestFiltering` (spec iis-request-filtering.md §2.1, §2.2).
 * Every Setting has `source: null` (= schema default: nothing written in any file); collections are empty.
 */
import type { RequestFilteringConfig, Setting } from "./types.js";

function schema<T>(value: T): Setting<T> {
  return { value, source: null };
}

/** A fresh, mutable RequestFilteringConfig holding only the schema defaults (§2.1). */
export function defaultRequestFiltering(): RequestFilteringConfig {
  return {
    allowDoubleEscaping: schema(false),
    allowHighBitCharacters: schema(true),
    unescapeQueryString: schema(true),
    requestLimits: {
      maxAllowedContentLength: schema(30000000),
      maxUrl: schema(4096),
      maxQueryString: schema(2048),
      headerLimits: [],
    },
    fileExtensions: { allowUnlisted: schema(true), applyToWebDAV: schema(true), items: [], index: new Map() },
    verbs: { allowUnlisted: schema(true), applyToWebDAV: schema(true), items: [], index: new Map() },
    hiddenSegments: { applyToWebDAV: schema(true), items: [], index: new Map() },
    denyUrlSequences: [],
    alwaysAllowedUrls: [],
    alwaysAllowedQueryStrings: [],
    denyQueryStringSequences: [],
    filteringRules: [],
  };
}
