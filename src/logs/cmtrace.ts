/**
 * CMTrace reader (configmgr-dp-bits §4.1) and the older "simple" SMS trace format (§4.2).
 *
 * CMTrace record: `<![LOG[message]LOG]!><time="HH:MM:SS.mmm±bias" date="MM-DD-YYYY" component="" context=""
 * type="0-3" thread="" file="">`. The message may span lines and contain XML, CDATA and even `]LOG]!>`: it ends at
 * the first `]LOG]!>` that is followed by an attribute block. UTC = local + bias minutes (§4.1, §7.3).
 * Resync rules (§4.1 "Corruption"): a record whose attribute block never comes (the writer was cut off) is
 * skipped when the next `<![LOG[` starts; text before an attribute block that has no `<![LOG[` (a line that
 * starts mid-record, corpus smsts_cb1906_osddownloadcontent_sccm-query-urls.log line 357) is skipped.
 */
import type { CmTraceRecord, SkippedRecord } from "./records.js";
import { decodeText, lineIndex, splitLines } from "./text.js";
import { type ParseResult, pushSkipped } from "./w3c.js";

const START = "<![LOG[";
const ATTR_BLOCK = /\]LOG\]!><((?:\s*[A-Za-z]+="[^"]*")+)\s*>/g;
const ATTR = /([A-Za-z]+)="([^"]*)"/g;

/** Parses `HH:MM:SS(.fff)?(±bias)?` + `MM-DD-YYYY` into UTC ms (NaN when no bias or malformed). */
export function cmTraceTime(
  time: string,
  date: string,
): { time: number; localTime: string; biasMinutes: number | null } {
  const t = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(?:([+-])(\d{1,4}))?$/.exec(time.trim());
  const d = /^(\d{1,2})-(\d{1,2})-(\d{4})$/.exec(date.trim());
  const localTime = `${date} ${t ? time.replace(/[+-]\d+$/, "") : time}`.trim();
  if (!t || !d) return { time: Number.NaN, localTime, biasMinutes: null };
  const bias = t[5] ? (t[5] === "-" ? -1 : 1) * Number(t[6]) : null;
  const ms = t[4] ? Number(t[4].slice(0, 3).padEnd(3, "0")) : 0;
  const mo = Number(d[1]);
  const day = Number(d[2]);
  if (mo < 1 || mo > 12 || day < 1 || day > 31 || Number(t[1]) > 23 || Number(t[2]) > 59)
    return { time: Number.NaN, localTime, biasMinutes: bias };
  const local = Date.UTC(Number(d[3]), mo - 1, day, Number(t[1]), Number(t[2]), Number(t[3]), ms);
  return { time: bias === null ? Number.NaN : local + bias * 60_000, localTime, biasMinutes: bias };
}

function attrs(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(ATTR)) out[m[1].toLowerCase()] = m[2];
  return out;
}

function intOr(v: string | undefined, dflt: number): number {
  if (v === undefined || !/^\s*-?\d+\s*$/.test(v)) return dflt;
  return Number(v);
}

/** Reads a CMTrace log; falls back to the simple `$$<…>` format when the file has no `<![LOG[` record. */
export function parseCmTrace(input: string | Uint8Array, file = "<input>"): ParseResult<CmTraceRecord> {
  const { text } = decodeText(input);
  if (!text.includes(START) && text.includes("$$<")) return parseSmsSimple(text, file);
  const lineOf = lineIndex(text);
  const result: ParseResult<CmTraceRecord> = {
    records: [],
    skipped: [],
    skippedCount: 0,
    lines: splitLines(text).length,
  };
  const skip = (offset: number, reason: string) => {
    const s: SkippedRecord = { file, line: lineOf(offset), reason };
    pushSkipped(result, s);
  };
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const start = text.indexOf(START, pos);
    const gapEnd = start < 0 ? n : start;
    // Text between records: whitespace is fine; anything else is a fragment (a record that lost its start).
    if (/\S/.test(text.slice(pos, gapEnd))) {
      const firstNonSpace = pos + text.slice(pos, gapEnd).search(/\S/);
      ATTR_BLOCK.lastIndex = firstNonSpace;
      const hasAttr = ATTR_BLOCK.exec(text);
      skip(
        firstNonSpace,
        hasAttr && hasAttr.index < gapEnd
          ? 'truncated record: text before "]LOG]!><time=…>" has no "<![LOG[" start'
          : 'text outside any "<![LOG[…]LOG]!>" record',
      );
    }
    if (start < 0) break;
    ATTR_BLOCK.lastIndex = start + START.length;
    const m = ATTR_BLOCK.exec(text);
    if (!m) {
      skip(start, 'truncated record: no "]LOG]!><time=… file=…>" attribute block before the end of the file');
      break;
    }
    // A later "<![LOG[" before this attribute block means the earlier record(s) were cut off: resync on the last one.
    let recStart = start;
    for (let next = text.indexOf(START, recStart + START.length); next >= 0 && next < m.index; ) {
      skip(recStart, 'truncated record: a new "<![LOG[" starts before its "]LOG]!>" attribute block');
      recStart = next;
      next = text.indexOf(START, recStart + START.length);
    }
    const a = attrs(m[1]);
    const message = text.slice(recStart + START.length, m.index);
    const when = cmTraceTime(a.time ?? "", a.date ?? "");
    const line = lineOf(recStart);
    const end = m.index + m[0].length;
    result.records.push({
      file,
      line,
      endLine: lineOf(end - 1),
      time: when.time,
      localTime: when.localTime,
      biasMinutes: when.biasMinutes,
      component: a.component ?? "",
      context: a.context ?? "",
      type: intOr(a.type, 1),
      thread: intOr(a.thread, 0),
      sourceFile: a.file ?? "",
      message,
      format: "cmtrace",
    });
    pos = end;
  }
  return result;
}

// §4.2: "message $$<COMPONENT><MM-DD-YYYY HH:MM:SS.mmm±bias><thread=N (0xHEX)>" (SMS 2.0: "<ddd Mon DD HH:MM:SS.mmm YYYY Zone Name>").
const SIMPLE_TRAILER = /\s*\$\$<([^>]*)><([^>]*)><thread=(\d+)(?:\s*\(0x[0-9A-Fa-f]+\))?>\s*$/;
const SIMPLE_DATE = /^(\d{1,2}-\d{1,2}-\d{4})\s+(\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d+)?)$/;
const SMS2_DATE =
  /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)\s+(\d{4})\s*(.*)$/;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** Windows time-zone names seen in SMS 2.0 trailers → bias minutes (UTC = local + bias). */
const ZONE_BIAS: Record<string, number> = {
  "pacific daylight time": 420,
  "pacific standard time": 480,
  "mountain daylight time": 360,
  "mountain standard time": 420,
  "central daylight time": 300,
  "central standard time": 360,
  "eastern daylight time": 240,
  "eastern standard time": 300,
  "gmt standard time": 0,
  "gmt daylight time": -60,
  "coordinated universal time": 0,
  "w. europe standard time": -60,
  "w. europe daylight time": -120,
};

function simpleTime(s: string): { time: number; localTime: string; biasMinutes: number | null } {
  const a = SIMPLE_DATE.exec(s.trim());
  if (a) return cmTraceTime(a[2], a[1]);
  const b = SMS2_DATE.exec(s.trim());
  if (b) {
    const mo = MONTHS.indexOf(b[1].toLowerCase()) + 1;
    const bias = ZONE_BIAS[b[5].trim().toLowerCase()];
    if (mo > 0) {
      const date = `${String(mo).padStart(2, "0")}-${b[2].padStart(2, "0")}-${b[4]}`;
      const r = cmTraceTime(
        bias === undefined ? b[3] : `${b[3]}${bias < 0 ? "-" : "+"}${Math.abs(bias)}`,
        date,
      );
      return { ...r, localTime: s.trim() };
    }
  }
  return { time: Number.NaN, localTime: s.trim(), biasMinutes: null };
}

/** Reads the simple SMS trace format; lines without a trailer belong to the next trailer (multi-line messages). */
export function parseSmsSimple(input: string | Uint8Array, file = "<input>"): ParseResult<CmTraceRecord> {
  const { text } = decodeText(input);
  const lines = splitLines(text);
  const result: ParseResult<CmTraceRecord> = {
    records: [],
    skipped: [],
    skippedCount: 0,
    lines: lines.length,
  };
  let pending: { line: number; parts: string[] } | undefined;
  for (const l of lines) {
    const m = SIMPLE_TRAILER.exec(l.text);
    if (!m) {
      if (l.text.trim().length === 0 && !pending) continue;
      if (!pending) pending = { line: l.line, parts: [] };
      pending.parts.push(l.text);
      continue;
    }
    const first = pending?.line ?? l.line;
    const message = [...(pending?.parts ?? []), l.text.slice(0, m.index)].join("\n");
    pending = undefined;
    const when = simpleTime(m[2]);
    result.records.push({
      file,
      line: first,
      endLine: l.line,
      time: when.time,
      localTime: when.localTime,
      biasMinutes: when.biasMinutes,
      component: m[1],
      context: "",
      type: 1,
      thread: Number(m[3]),
      sourceFile: "",
      message,
      format: "sms-simple",
    });
  }
  if (pending?.parts.some((p) => p.trim().length > 0))
    pushSkipped(result, {
      file,
      line: pending.line,
      reason: 'truncated record: no "$$<component><date><thread=…>" trailer',
    });
  return result;
}
