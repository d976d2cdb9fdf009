/**
 * Artifact detection from content, not from the name (issue 4): the first bytes decide; the name only breaks ties.
 * Each rule gives its reason so "unknown" can say what was looked for.
 */
import { bitsShape } from "./bits.js";
import type { ArtifactKind } from "./records.js";
import { decodeText, looksBinary } from "./text.js";

export interface Detection {
  kind: ArtifactKind;
  /** Why this kind (or, for "unknown", what was expected). */
  reason: string;
  gzip?: boolean;
}

export const DETECT_BYTES = 64 * 1024;

export const ARTIFACT_KINDS: readonly ArtifactKind[] = [
  "iis-w3c",
  "httperr",
  "cmtrace",
  "sms-simple",
  "bits-xml",
  "bits-csv",
  "bits-text",
  "evtx",
  "iis-config",
  "unknown",
];

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Detects the kind of an artifact from (up to) its first 64 KiB; `path` is used only as a tie-breaker. */
export function detectKind(path: string, firstBytes: Uint8Array): Detection {
  if (firstBytes.length >= 8 && Buffer.from(firstBytes.subarray(0, 8)).toString("latin1") === "ElfFile\0")
    return { kind: "evtx", reason: 'binary Windows event log ("ElfFile" signature)' };
  if (isGzip(firstBytes))
    return { kind: "unknown", reason: "gzip-compressed (decompress first)", gzip: true };
  if (firstBytes.length === 0) return { kind: "unknown", reason: "empty file" };
  if (looksBinary(firstBytes))
    return { kind: "unknown", reason: "binary content (NUL or control bytes), not a text log" };
  const text = decodeText(firstBytes).text;
  return detectText(path, text);
}

export function detectText(path: string, text: string): Detection {
  const head = text.slice(0, DETECT_BYTES);
  const fields = /^#Fields:(.*)$/im.exec(head);
  if (/^#Software:\s*Microsoft HTTP API/im.test(head) || (fields && /\bs-reason\b/.test(fields[1])))
    return { kind: "httperr", reason: '"#Software: Microsoft HTTP API" / "#Fields:" with s-reason' };
  if (fields || /^#Software:\s*Microsoft Internet Information Services/im.test(head))
    return { kind: "iis-w3c", reason: '"#Fields:" directive (W3C extended log)' };
  if (head.includes("<![LOG[")) return { kind: "cmtrace", reason: '"<![LOG[" CMTrace record' };
  if (/\$\$<[^>\r\n]*><[^>\r\n]*><thread=\d+/.test(head))
    return { kind: "sms-simple", reason: '"$$<component><date><thread=…>" trailer (simple SMS trace)' };
  if (
    /<configuration[\s>]/.test(head) &&
    /<system\.webServer|<configSections|<system\.applicationHost/.test(head)
  )
    return { kind: "iis-config", reason: "<configuration> with IIS sections" };
  const shape = bitsShape(head);
  if (shape) return { kind: `bits-${shape}` as ArtifactKind, reason: `Windows event export (${shape})` };
  const lower = path.toLowerCase();
  const name = lower.split(/[\\/]/).pop() ?? lower;
  return {
    kind: "unknown",
    reason:
      `no known log signature in the first ${Math.min(head.length, DETECT_BYTES)} characters (looked for "#Fields:", ` +
      `"<![LOG[", "$$<…><thread=", "<Event>", an Export-Csv header, "Event[n]:" / "Event Type:")` +
      (name.endsWith(".evtx") ? "; .evtx name but no ElfFile signature" : ""),
  };
}
