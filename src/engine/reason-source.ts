/**
 * What the configuration line a reason cites says: the `<add …/>` element it names and that element's value
 * (`.ldf` from `<add fileExtension=".ldf" allowed="false" />`). A source's text is its line when the line holds that
 * one tag, else the construct itself (src/config/merge.ts sourceAt): so an `<add` at the start of the text is the
 * element cited, and a text that starts otherwise cites something else (an attribute such as allowUnlisted="false").
 */
import type { Reason } from "./types.js";

/** The `<add …/>` start tag the reason cites, or undefined when it cites something else (an attribute, a default). */
export function ruleElement(reason: Reason): string | undefined {
  const text = reason.source?.text;
  if (!text || !/^<add\b/i.test(text)) return undefined;
  const end = text.indexOf(">");
  return end < 0 ? text : text.slice(0, end + 1);
}

/** The value the cited `<add …/>` element names (fileExtension, segment, verb, sequence, queryString, url). */
export function ruleValue(reason: Reason): string | undefined {
  const element = ruleElement(reason);
  if (element === undefined) return undefined;
  const m = /\b(?:fileExtension|segment|verb|sequence|queryString|url)\s*=\s*"([^"]*)"/i.exec(element);
  return m ? m[1] : undefined;
}

/** Does the cited `<add …/>` element say allowed="false" (a deny rule, not an allow-list entry)? */
export function ruleDenies(reason: Reason): boolean {
  return /\ballowed\s*=\s*"false"/i.test(ruleElement(reason) ?? "");
}
