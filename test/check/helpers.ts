/** Shared helpers for the check tests: build package trees and run the check in-process. */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FileFactsFn } from "../../src/check/facts.js";
import { type CheckSettings, type FileResult, runCheck, type Tally } from "../../src/check/run.js";
import { type PackageSpec, walkPackage } from "../../src/check/source.js";
import { loadServer } from "../../src/config/load.js";
import { URL_FORMS } from "../../src/dp/urlforms.js";

export const corpus = fileURLToPath(new URL("../../../shared/corpus/", import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `dpdoctor-${prefix}-`));
}

/** Write files (relative paths with "/") under root; content = the path. */
export function writeTree(root: string, files: string[]): void {
  for (const rel of files) {
    const abs = path.join(root, ...rel.split("/"));
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, rel);
  }
}

export function settings(opts: Parameters<typeof loadServer>[0] = { profile: "aspnet" }): CheckSettings {
  const config = loadServer(opts);
  return {
    server: { config, siteName: "Default Web Site" },
    forms: [...URL_FORMS],
    drive: "C",
    vdir: "SMS_DP_SMSPKG$",
  };
}

/** Check one folder package and return every file result by relative path. */
export async function checkFolder(
  root: string,
  s: CheckSettings,
  opts: { id?: string; facts?: FileFactsFn } = {},
): Promise<{ files: Map<string, FileResult>; tally: Tally }> {
  const pkg: PackageSpec = {
    id: opts.id ?? path.basename(root),
    contentId: opts.id ?? path.basename(root),
    root,
    source: "folder",
  };
  const files = new Map<string, FileResult>();
  const tally = await runCheck(
    {
      packages: [pkg],
      walk: (p) => walkPackage(p.root, { dataLib: false, onWarning: () => {} }),
      facts: () => opts.facts,
    },
    s,
    { file: (_p, r) => void files.set(r.path, r) },
  );
  return { files, tally };
}

/** "404.7" / "200" / "400" for a form result. */
export function code(r: FileResult | undefined, form: (typeof URL_FORMS)[number]): string {
  const v = r?.forms[form]?.verdict;
  if (!v) return "missing";
  return v.substatus ? `${v.status}.${v.substatus}` : `${v.status}`;
}

/** Check relative paths without touching the disk (names longer than the file system allows, 1 M-entry trees). */
export async function checkPaths(
  rels: string[],
  s: CheckSettings,
  opts: { id?: string; facts?: FileFactsFn } = {},
): Promise<{ files: Map<string, FileResult>; tally: Tally }> {
  const id = opts.id ?? "ABC00123";
  const pkg: PackageSpec = { id, contentId: id, root: path.join(tmpdir(), id), source: "folder" };
  const files = new Map<string, FileResult>();
  async function* walk() {
    for (const rel of rels) yield { rel, abs: path.join(pkg.root, ...rel.split("/")) };
  }
  const tally = await runCheck({ packages: [pkg], walk, facts: () => opts.facts }, s, {
    file: (_p, r) => void files.set(r.path, r),
  });
  return { files, tally };
}

export type Enc = "ansi" | "utf8bom" | "utf16le";
export function encode(text: string, enc: Enc): Buffer {
  if (enc === "utf16le") return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
  if (enc === "utf8bom") return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]);
  return Buffer.from(text, "latin1");
}

/** Write a content library holding `packages` (package ID → content ID → relative paths), as §3.1 describes. */
export function writeLibrary(
  root: string,
  packages: Record<string, { enc: Enc; contents: Record<string, string[]> }>,
) {
  for (const d of ["PkgLib", "DataLib", "FileLib"]) mkdirSync(path.join(root, d), { recursive: true });
  for (const [pkgId, { enc, contents }] of Object.entries(packages)) {
    const keys = Object.keys(contents)
      .map((c) => `${c}=`)
      .join("\r\n");
    writeFileSync(path.join(root, "PkgLib", `${pkgId}.INI`), encode(`[Packages]\r\n${keys}\r\n`, enc));
    for (const [cid, rels] of Object.entries(contents)) {
      writeFileSync(path.join(root, "DataLib", `${cid}.INI`), encode("[Content]\r\nHash=00\r\n", enc));
      for (const rel of rels) {
        const hash = createHash("sha256").update(rel).digest("hex").toUpperCase();
        const ini = path.join(root, "DataLib", cid, ...`${rel}.INI`.split("/"));
        mkdirSync(path.dirname(ini), { recursive: true });
        writeFileSync(ini, encode(`[File]\r\nSize=${rel.length}\r\nTimeModified=0\r\nHash=${hash}\r\n`, enc));
        const lib = path.join(root, "FileLib", hash.slice(0, 4));
        mkdirSync(lib, { recursive: true });
        writeFileSync(path.join(lib, hash), rel);
        writeFileSync(path.join(lib, `${hash}.INI`), encode(`[File]\r\n${cid}=\r\n`, enc));
      }
    }
  }
}
