/**
 * BITS Client event readers (configmgr-dp-bits §4.6): `wevtutil qe … /f:xml` (concatenated `<Event>` elements, no
 * root), Event Viewer "Save as" XML (`<Events>` root), python-evtx dumps (also grepped with `file-`/`file:`
 * prefixes, corpus bits-events/), `Get-WinEvent | Export-Csv` (with or without `#TYPE`), Event Viewer CSV/TXT
 * (tab-separated), `wevtutil /f:text` blocks, and the legacy XP/2003 text export
 * (`Event Type: / Event Source: BITS / Event ID: 16384`, [S53]).
 *
 * Event field names (§4.6 table): 59/60/61 `transferId, name, Id, url, peer, hr, …`; 3/4/5 `User, jobTitle, jobId,
 * jobOwner, fileCount`; 16384 `Id, Title, Owner, User`. Rendered messages are mined for the job ID, title, URL and
 * status code when the export has no EventData (CSV, text).
 */
import type { BitsEventRecord } from "./records.js";
import { decodeText, lineIndex, splitLines } from "./text.js";
import { type ParseResult, pushSkipped } from "./w3c.js";

export type BitsExportShape = "xml" | "csv" | "text";

const LEVELS: Record<string, string> = {
  "0": "LogAlways",
  "1": "Critical",
  "2": "Error",
  "3": "Warning",
  "4": "Information",
  "5": "Verbose",
};

export function xmlUnescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (m, e: string) => {
    switch (e) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default: {
        const cp = e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
        return Number.isFinite(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
    }
  });
}

/** Fields that can be read from a rendered BITS message (Win10 and 2008 R2 texts, §4.6). */
export function fromMessage(msg: string): Partial<BitsEventRecord> {
  const out: Partial<BitsEventRecord> = {};
  const id =
    /job\s*ID(?:\s+was|:)\s*(\{[0-9A-Fa-f-]{36}\})/i.exec(msg) ??
    /(\{[0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27}\})/.exec(msg);
  if (id) out.jobId = id[1];
  const title =
    /canceled job [“"]([^”"]+)[”"]/i.exec(msg) ??
    /(?:stopped transferring|started) the (.+?) transfer job/i.exec(msg) ??
    /for job [“"]([^”"]+)[”"]/i.exec(msg) ??
    /job:\s*([^,]+),/i.exec(msg);
  if (title) out.jobTitle = title[1].trim();
  const url = /associated with the (\S+) URL/i.exec(msg) ?? /transferring [“"](\S+?)[”"]/i.exec(msg);
  if (url) out.url = url[1];
  const hr = /status code (?:is|was) (0x[0-9A-Fa-f]+|-?\d+)/i.exec(msg);
  if (hr) out.hr = hr[1];
  const admin = /The administrator (.+?) canceled job/i.exec(msg);
  if (admin) out.user = admin[1];
  const owner = /on behalf of (.+?)\.\s/i.exec(`${msg} `) ?? /owner:?\s*([^,]+)/i.exec(msg);
  if (owner) out.owner = owner[1].trim();
  return out;
}

function blank(file: string, line: number): BitsEventRecord {
  return {
    file,
    line,
    eventId: 0,
    time: Number.NaN,
    level: "",
    provider: "",
    computer: "",
    jobId: "",
    jobTitle: "",
    url: "",
    hr: "",
    owner: "",
    user: "",
    data: {},
    message: "",
    text: "",
  };
}

function fillFromData(r: BitsEventRecord): void {
  const d = r.data;
  r.jobId ||= d.jobId ?? d.Id ?? "";
  r.jobTitle ||= d.jobTitle ?? d.Title ?? d.name ?? d.jobName ?? "";
  r.url ||= d.url ?? "";
  r.hr ||= d.hr ?? "";
  r.owner ||= d.jobOwner ?? d.Owner ?? "";
  r.user ||= d.User ?? "";
}

function fillFromMessage(r: BitsEventRecord): void {
  if (!r.message) return;
  const m = fromMessage(r.message);
  r.jobId ||= m.jobId ?? "";
  r.jobTitle ||= m.jobTitle ?? "";
  r.url ||= m.url ?? "";
  r.hr ||= m.hr ?? "";
  r.owner ||= m.owner ?? "";
  r.user ||= m.user ?? "";
}

/** python-evtx output piped through `grep -A/-B`: `file.evtx-` / `file.evtx:` prefixes and `--` separators. */
function stripGrepPrefixes(text: string): string {
  const lines = splitLines(text);
  const pre = /^(\S+?\.evtx)[-:]/i;
  const withPrefix = lines.filter((l) => pre.test(l.text) || l.text === "--").length;
  if (withPrefix < Math.max(1, lines.filter((l) => l.text.length > 0).length * 0.8)) return text;
  // Keep line numbers: replace a prefix by nothing and "--" by an empty line.
  return lines.map((l) => (l.text === "--" ? "" : l.text.replace(pre, ""))).join("\n");
}

function tag(chunk: string, name: string): string | undefined {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(chunk);
  return m ? xmlUnescape(m[1]).trim() : undefined;
}

function inferEventId(r: BitsEventRecord): void {
  if (r.eventId) return;
  const d = r.data;
  let id = 0;
  if ("transferId" in d && "hr" in d) id = d.hr === "0" || d.hr === "" ? 60 : 61;
  else if ("transferId" in d) id = 59;
  else if ("jobTitle" in d && "fileCount" in d)
    id = 0; // 4 or 5: cannot tell
  else if ("Title" in d && "Owner" in d && "User" in d && "Id" in d) id = 16384;
  if (id) {
    r.eventId = id;
    (r.inferred ??= []).push(
      `event ID ${id} inferred from the EventData field names (no <EventID> in the export)`,
    );
  }
}

/** XML exports: concatenated `<Event>` elements, an `<Events>` root, or python-evtx (grep) dumps. */
export function parseBitsXml(input: string | Uint8Array, file = "<input>"): ParseResult<BitsEventRecord> {
  const text = stripGrepPrefixes(decodeText(input).text);
  const lineOf = lineIndex(text);
  const result: ParseResult<BitsEventRecord> = {
    records: [],
    skipped: [],
    skippedCount: 0,
    lines: splitLines(text).length,
  };
  let pos = 0;
  const endTag = /<\/Event\s*>/g;
  for (;;) {
    endTag.lastIndex = pos;
    const end = endTag.exec(text);
    const stop = end ? end.index + end[0].length : text.length;
    let chunk = text.slice(pos, stop);
    const evStart = chunk.search(/<Event[\s>]/);
    // The record starts at its <Event> tag, or (grepped dumps) at the first element line after the previous one.
    let startOffset = pos + (evStart >= 0 ? evStart : Math.max(0, chunk.search(/<[A-Za-z]/)));
    if (evStart >= 0) {
      // Keep what precedes <Event> only when it is not a complete element of its own (a grep fragment).
      const before = chunk.slice(0, evStart);
      if (!/<EventData|<Data /.test(before)) chunk = chunk.slice(evStart);
      else startOffset = pos + Math.max(0, before.search(/<[A-Za-z]/));
    }
    const hasContent = /<EventID|<Data[\s>]|<EventData/.test(chunk);
    // A last event cut off after some <Data> fields (grep context, truncated copy) is still read, and says so.
    const truncated = !end && /<Data[\s>]/.test(chunk);
    if (!end && !truncated) {
      if (hasContent)
        pushSkipped(result, {
          file,
          line: lineOf(startOffset),
          reason: 'truncated event: no "</Event>" before the end of the file',
        });
      break;
    }
    pos = stop;
    if (!hasContent) {
      if (/\S/.test(chunk.replace(/<\?xml[^>]*>|<\/?Events[^>]*>|<Event[^>]*>|<\/Event\s*>/g, "")))
        pushSkipped(result, {
          file,
          line: lineOf(startOffset),
          reason: "event without <EventID> or <EventData>",
        });
      continue;
    }
    const r = blank(file, lineOf(startOffset));
    r.text = chunk.trim().slice(0, 500);
    const eid = tag(chunk, "EventID");
    r.eventId = eid && /^\d+$/.test(eid) ? Number(eid) : 0;
    const tc = /<TimeCreated\s+SystemTime="([^"]+)"/.exec(chunk);
    r.time = tc ? Date.parse(tc[1]) : Number.NaN;
    const lvl = tag(chunk, "Level");
    r.level = lvl === undefined ? "" : (LEVELS[lvl] ?? lvl);
    const prov = /<Provider\s+Name="([^"]*)"/.exec(chunk);
    r.provider = prov ? xmlUnescape(prov[1]) : "";
    r.computer = tag(chunk, "Computer") ?? "";
    for (const m of chunk.matchAll(/<Data\s+Name="([^"]*)"\s*(?:\/>|>([\s\S]*?)<\/Data>)/g))
      r.data[m[1]] = xmlUnescape(m[2] ?? "");
    const msg = /<RenderingInfo[\s\S]*?<Message>([\s\S]*?)<\/Message>/.exec(chunk);
    if (msg) r.message = xmlUnescape(msg[1]).trim();
    const rl = /<RenderingInfo[\s\S]*?<Level>([^<]*)<\/Level>/.exec(chunk);
    if (rl?.[1]) r.level = rl[1];
    fillFromData(r);
    fillFromMessage(r);
    inferEventId(r);
    if (truncated) (r.inferred ??= []).push('event truncated: no "</Event>"; read the fields present');
    result.records.push(r);
    if (!end) break;
  }
  return result;
}

/** RFC 4180 CSV (quoted fields may span lines); returns rows with the line each row starts on. */
export function parseCsvRows(text: string, delimiter = ","): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let atStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && atStart) {
      quoted = true;
      atStart = false;
    } else if (c === delimiter) {
      cells.push(cell);
      cell = "";
      atStart = true;
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== "") rows.push({ cells, line: rowLine });
      cells = [];
      cell = "";
      line++;
      rowLine = line;
      atStart = true;
    } else {
      cell += c;
      atStart = false;
    }
  }
  if (cell.length > 0 || cells.length > 0) {
    cells.push(cell);
    rows.push({ cells, line: rowLine });
  }
  return rows;
}

/** Local time without an offset ("6/21/2010 10:02:13 AM", "2024-03-05T09:20:11.123"): read as UTC [INF]. */
export function parseLooseTime(s: string): { time: number; inferred?: string } {
  const t = s.trim();
  if (!t) return { time: Number.NaN };
  if (/(?:Z|[+-]\d{2}:?\d{2})$/.test(t) && !Number.isNaN(Date.parse(t))) return { time: Date.parse(t) };
  const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(t);
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?$/i.exec(t);
  let ms = Number.NaN;
  if (iso)
    ms = Date.UTC(
      +iso[1],
      +iso[2] - 1,
      +iso[3],
      +iso[4],
      +iso[5],
      +iso[6],
      iso[7] ? +iso[7].slice(0, 3).padEnd(3, "0") : 0,
    );
  else if (us) {
    let h = +us[4] % (us[7] ? 12 : 24);
    if (us[7]?.toUpperCase() === "PM") h += 12;
    ms = Date.UTC(+us[3], +us[1] - 1, +us[2], h, +us[5], us[6] ? +us[6] : 0);
  }
  if (Number.isNaN(ms)) return { time: Number.NaN };
  return {
    time: ms,
    inferred: `time "${t}" has no UTC offset (local time of the exporting machine); read as UTC`,
  };
}

/** Get-WinEvent | Export-Csv, Event Viewer "Save as" CSV, or Event Viewer TXT (tab-separated). */
export function parseBitsCsv(input: string | Uint8Array, file = "<input>"): ParseResult<BitsEventRecord> {
  const { text } = decodeText(input);
  const firstLine = text.slice(0, text.search(/\r|\n|$/));
  const delimiter = firstLine.includes("\t") && !firstLine.includes('","') ? "\t" : ",";
  const rows = parseCsvRows(text, delimiter);
  const result: ParseResult<BitsEventRecord> = {
    records: [],
    skipped: [],
    skippedCount: 0,
    lines: splitLines(text).length,
  };
  let i = 0;
  if (rows[0]?.cells[0]?.startsWith("#TYPE")) i++;
  const header = rows[i]?.cells.map((c) => c.trim());
  if (!header) return result;
  i++;
  const col = (...names: string[]) => {
    for (const n of names) {
      const k = header.findIndex((h) => h.toLowerCase() === n.toLowerCase());
      if (k >= 0) return k;
    }
    return -1;
  };
  const cId = col("Id", "Event ID", "EventID");
  const cTime = col("TimeCreated", "Date and Time", "TimeGenerated");
  const cLevel = col("LevelDisplayName", "Level", "EntryType");
  const cProv = col("ProviderName", "Source");
  const cComp = col("MachineName", "Computer");
  let cMsg = col("Message", "Description");
  if (cMsg < 0) cMsg = header.length; // Event Viewer puts the description in an unnamed trailing column
  if (cId < 0) {
    pushSkipped(result, {
      file,
      line: rows[i - 1].line,
      reason: 'no "Id" / "Event ID" column in the CSV header',
    });
    return result;
  }
  for (; i < rows.length; i++) {
    const { cells, line } = rows[i];
    const idText = (cells[cId] ?? "").trim();
    if (!/^\d+$/.test(idText)) {
      pushSkipped(result, { file, line, reason: `event ID is not a number: "${idText.slice(0, 40)}"` });
      continue;
    }
    const r = blank(file, line);
    r.eventId = Number(idText);
    const t = parseLooseTime(cells[cTime] ?? "");
    r.time = t.time;
    if (t.inferred) r.inferred = [t.inferred];
    const lvl = (cells[cLevel] ?? "").trim();
    r.level = LEVELS[lvl] ?? lvl;
    r.provider = (cells[cProv] ?? "").trim();
    r.computer = (cells[cComp] ?? "").trim();
    r.message = (cells.slice(cMsg).join(delimiter) ?? "").trim();
    r.text = cells.join(delimiter).slice(0, 500);
    fillFromMessage(r);
    result.records.push(r);
  }
  return result;
}

/** `wevtutil qe … /f:text` (`Event[n]:` blocks) and the legacy `Event Type:/Event Source:` text export. */
export function parseBitsText(input: string | Uint8Array, file = "<input>"): ParseResult<BitsEventRecord> {
  const { text } = decodeText(input);
  const lines = splitLines(text);
  const result: ParseResult<BitsEventRecord> = {
    records: [],
    skipped: [],
    skippedCount: 0,
    lines: lines.length,
  };
  const isStart = (s: string) => /^Event\[\d+\]:\s*$/.test(s.trim()) || /^Event Type:/i.test(s.trim());
  let block: { line: number; lines: string[] } | undefined;
  const flush = () => {
    if (!block) return;
    const r = blank(file, block.line);
    const kv: Record<string, string> = {};
    const msg: string[] = [];
    let inDescription = false;
    for (const raw of block.lines) {
      const s = raw.trim();
      const m = /^([A-Za-z][A-Za-z ]{1,20}):\s*(.*)$/.exec(s);
      if (!inDescription && m && !/^Event\[\d+\]$/.test(m[1])) {
        const key = m[1].toLowerCase();
        if (key === "description") {
          inDescription = true;
          if (m[2]) msg.push(m[2]);
        } else kv[key] = m[2].trim();
        continue;
      }
      if (/^Event\[\d+\]:/.test(s)) continue;
      if (s.length > 0 || inDescription) msg.push(s);
      if (s.length > 0) inDescription = true;
    }
    r.message = msg.join("\n").trim();
    const id = kv["event id"] ?? "";
    r.eventId = /^\d+$/.test(id) ? Number(id) : 0;
    r.provider = kv.source ?? kv["event source"] ?? "";
    r.level = kv.level ?? kv["event type"] ?? "";
    r.computer = kv.computer ?? "";
    const when = parseLooseTime(kv.time ? `${kv.date ?? ""} ${kv.time}` : (kv.date ?? ""));
    r.time = when.time;
    if (when.inferred) r.inferred = [when.inferred];
    r.text = block.lines.join("\n").slice(0, 500);
    fillFromMessage(r);
    if (!r.user && kv["user name"]) r.user = kv["user name"];
    if (!r.eventId)
      pushSkipped(result, { file, line: block.line, reason: 'event block without a numeric "Event ID:"' });
    else result.records.push(r);
    block = undefined;
  };
  for (const l of lines) {
    if (isStart(l.text)) {
      flush();
      block = { line: l.line, lines: [l.text] };
    } else if (block) block.lines.push(l.text);
    else if (l.text.trim().length > 0)
      pushSkipped(result, {
        file,
        line: l.line,
        reason: 'text before the first "Event[n]:" / "Event Type:" block',
      });
  }
  flush();
  return result;
}

/** Detects the export shape from the text. */
export function bitsShape(text: string): BitsExportShape | undefined {
  const head = text.slice(0, 8192);
  if (/<Event[\s>]/.test(head) || /<EventRecordID>|<Data Name=/.test(head)) return "xml";
  if (/^\s*(?:#TYPE [^\r\n]*[\r\n]+)?"?(?:Message|Level)"?[,\t]/.test(head) && /Id|Event ID/.test(head))
    return "csv";
  if (/^\s*Event\[\d+\]:/m.test(head) || /^Event Type:/m.test(head)) return "text";
  return undefined;
}

/** Reads any supported BITS event export (shape detected from the content). */
export function parseBitsEvents(input: string | Uint8Array, file = "<input>"): ParseResult<BitsEventRecord> {
  const { text } = decodeText(input);
  switch (bitsShape(text)) {
    case "csv":
      return parseBitsCsv(text, file);
    case "text":
      return parseBitsText(text, file);
    default:
      return parseBitsXml(text, file);
  }
}
