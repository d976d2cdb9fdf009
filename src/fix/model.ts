/**
 * The planning model of `dpdoctor fix`: what the admin asks for, the configuration changes that answer it, and the
 * plan that groups them by scope (a `<location path>` of applicationHost.config, or the server level).
 * Spec: iis-request-filtering.md §2 (schema), §8 (merging, locks); configmgr-dp-bits.md §6 (fixes per failure).
 */
import type { CheckName } from "../engine/types.js";

/** One thing to allow, in the admin's words. */
export type Ask =
  | { kind: "allowExtension"; extension: string } // ".ldf"
  | { kind: "allowSegment"; segment: string } // "bin"
  | { kind: "allowVerb"; verb: string } // "HEAD" (case-sensitive, §6.6)
  | { kind: "allowDoubleEscaping" }
  | { kind: "allowHighBit" }
  | { kind: "maxQueryString"; value: number }
  | { kind: "maxUrl"; value: number }
  /** A MIME map so the static file handler serves the extension (404.3, §9.2; CM2007 vdirs are served statically). */
  | { kind: "addMimeMap"; extension: string; mimeType: string };

/** The collections of requestFiltering a fix edits, with their key attribute (§2.2). */
export const COLLECTION_KEY = {
  fileExtensions: "fileExtension",
  hiddenSegments: "segment",
  verbs: "verb",
} as const;
export type CollectionName = keyof typeof COLLECTION_KEY;

/** Elements under requestFiltering whose attributes a fix may set ("" = requestFiltering itself). */
export type AttributeOwner = "" | "requestLimits" | "fileExtensions" | "verbs";

/** One configuration change at a scope; each renders to XML, appcmd and PowerShell. */
export type Change =
  /** `<remove fileExtension=".ldf" />`: drop an inherited entry (§8.2). */
  | { op: "removeItem"; collection: CollectionName; key: string; ask: Ask }
  /** `<add fileExtension=".ldf" allowed="true" />` (only when the key is absent after the removes: never a duplicate). */
  | { op: "addItem"; collection: CollectionName; key: string; allowed?: boolean; ask: Ask }
  /** Delete an `<add>` written at this very scope (what appcmd `/-coll.[key='x']` does at that location). */
  | { op: "deleteLocalItem"; collection: CollectionName; key: string; ask: Ask }
  /** Set `allowed="true"` on an `<add>` written at this very scope. */
  | { op: "allowLocalItem"; collection: CollectionName; key: string; ask: Ask }
  /** `<staticContent><mimeMap fileExtension=".ldf" mimeType="application/octet-stream" />` (§2.3). */
  | { op: "addMimeMap"; extension: string; mimeType: string; ask: Ask }
  /** Set an attribute of requestFiltering or one of its child elements. */
  | { op: "setAttribute"; owner: AttributeOwner; name: string; value: string; ask: Ask };

/** A lock that would make the change a 500.19 and the explicit edit that lifts it (§8.3). */
export interface Unlock {
  /** Where the lock is written. */
  file: string;
  line: number;
  column: number;
  /** The element's name and the lock attribute. */
  element: string;
  attribute:
    | "lockItem"
    | "lockElements"
    | "lockAttributes"
    | "lockAllAttributesExcept"
    | "lockAllElementsExcept";
  /** New value of the attribute; null = delete the attribute. */
  newValue: string | null;
  /** Char offsets of the attribute in the file (for the splice). */
  attrStart: number;
  attrEnd: number;
  why: string;
}

export interface ScopePlan {
  /** `<location path>` ("Default Web Site/SMS_DP_SMSPKG$"), or "" for the server level (outside any location). */
  locationPath: string;
  siteName: string;
  /** URL path of the scope ("/SMS_DP_SMSPKG$"), "/" for the site, "" for the server. */
  urlPath: string;
  /** Why this scope: "default", "from the refused requests", "--scope server". */
  reason: string;
  changes: Change[];
  unlocks: Unlock[];
}

/** A request used to prove the plan: it must pass after the change (refused) or keep its verdict (control). */
export interface ProofRequest {
  role: "refused" | "control";
  siteName: string;
  method: string;
  target: string;
  /** Why this request is in the proof ("refused in the findings", "same path on site X", "other virtual directory"). */
  why: string;
  /**
   * For a probe built from an explicit ask: the one check the ask lifts. The probe proves that check no longer
   * fires; other checks that still refuse it are reported, not hidden (they were not asked for).
   */
  check?: CheckName;
}

/** A refusal no configuration change can fix (http.sys limits), and what to do instead. */
export interface Unfixable {
  siteName: string;
  method: string;
  target: string;
  status: number;
  substatus: number;
  why: string;
}

export interface Plan {
  file: string;
  scopes: ScopePlan[];
  /** One sentence per rule: what the change opens, and where. */
  opens: string[];
  warnings: string[];
  /** Asks that needed no change (already allowed at that scope). */
  alreadyAllowed: string[];
  unfixable: Unfixable[];
  proof: ProofRequest[];
}

export function askLabel(ask: Ask): string {
  switch (ask.kind) {
    case "allowExtension":
      return `allow extension ${ask.extension}`;
    case "allowSegment":
      return `allow segment ${ask.segment}`;
    case "allowVerb":
      return `allow verb ${ask.verb}`;
    case "allowDoubleEscaping":
      return "allow double escaping";
    case "allowHighBit":
      return "allow high-bit characters";
    case "maxQueryString":
      return `maxQueryString ${ask.value}`;
    case "maxUrl":
      return `maxUrl ${ask.value}`;
    case "addMimeMap":
      return `MIME map ${ask.extension} → ${ask.mimeType}`;
  }
}

export function sameAsk(a: Ask, b: Ask): boolean {
  return askKey(a) === askKey(b);
}

/** Identity of an ask (extension and segment keys are case-insensitive, verbs case-sensitive: §2.2). */
export function askKey(ask: Ask): string {
  switch (ask.kind) {
    case "allowExtension":
      return `ext:${ask.extension.toLowerCase()}`;
    case "allowSegment":
      return `seg:${ask.segment.toLowerCase()}`;
    case "addMimeMap":
      return `mime:${ask.extension.toLowerCase()}`;
    case "allowVerb":
      return `verb:${ask.verb}`;
    case "maxQueryString":
    case "maxUrl":
      return ask.kind;
    default:
      return ask.kind;
  }
}
