/**
 * Content-library INI files (PkgLib\<PackageID>.INI, DataLib\…\<file>.INI, FileLib\<4>\<hash>.INI).
 * Spec: ../shared/spec/configmgr-dp-bits.md §3.1, §3.2 — ANSI by strong inference, but sniff the BOM:
 * `FF FE` → UTF-16LE, `FE FF` → UTF-16BE, `EF BB BF` → UTF-8, none → ANSI (read as Windows-1252; Node has no
 * cp1252 decoder without ICU data, latin1 differs only in 0x80–0x9F, which never appears in IDs or hashes).
 *
 * A broken INI is a positioned warning (file:line:col), never an exception.
 */

export type IniEncoding = "utf-16le" | "utf-16be" | "utf-8-bom" | "ansi";

export interface IniWarning {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface IniEntry {
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  entries: IniEntry[];
}

export interface IniFile {
  encoding: IniEncoding;
  sections: IniSection[];
  warnings: IniWarning[];
}

/** Decode INI bytes by their BOM (§3.2). */
export function decodeIniBytes(buf: Buffer): { text: string; encoding: IniEncoding } {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe)
    return {
      text: buf.subarray(2, buf.length - ((buf.length - 2) % 2)).toString("utf16le"),
      encoding: "utf-16le",
    };
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const body = Buffer.from(buf.subarray(2, buf.length - ((buf.length - 2) % 2)));
    body.swap16();
    return { text: body.toString("utf16le"), encoding: "utf-16be" };
  }
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
    return { text: buf.subarray(3).toString("utf8"), encoding: "utf-8-bom" };
  return { text: buf.toString("latin1"), encoding: "ansi" };
}

/**
 * Parse INI text: `[Section]`, `key=value`, `;`/`#` comments, blank lines; CRLF, LF or CR line ends.
 * Anything else is a warning naming file:line:col; parsing goes on.
 */
export function parseIni(buf: Buffer, file: string): IniFile {
  const { text, encoding } = decodeIniBytes(buf);
  const warnings: IniWarning[] = [];
  const sections: IniSection[] = [];
  let current: IniSection | undefined;
  const lines = text.split(/\r\n|\r|\n/);
  if (text.includes("\u0000"))
    warnings.push({
      file,
      line: 1,
      column: 1,
      message: `NUL bytes in an ${encoding} INI: binary or mis-encoded file`,
    });
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#")) continue;
    if (trimmed.startsWith("[")) {
      const close = trimmed.indexOf("]");
      if (close < 0) {
        warnings.push({
          file,
          line: lineNo,
          column: raw.indexOf("[") + 1,
          message: "section header without ']' (expected [Section])",
        });
        continue;
      }
      current = { name: trimmed.slice(1, close).trim(), line: lineNo, entries: [] };
      sections.push(current);
      continue;
    }
    const eq = raw.indexOf("=");
    if (eq < 0) {
      warnings.push({
        file,
        line: lineNo,
        column: raw.length - raw.trimStart().length + 1,
        message: "expected key=value, a [Section] or a ; comment",
      });
      continue;
    }
    if (!current) {
      warnings.push({ file, line: lineNo, column: 1, message: "key=value before any [Section]" });
      continue;
    }
    current.entries.push({ key: raw.slice(0, eq).trim(), value: raw.slice(eq + 1).trim(), line: lineNo });
  }
  return { encoding, sections, warnings };
}

/** Section by name, case-insensitively (INI files on Windows). */
export function iniSection(ini: IniFile, name: string): IniSection | undefined {
  const n = name.toLowerCase();
  return ini.sections.find((s) => s.name.toLowerCase() === n);
}
