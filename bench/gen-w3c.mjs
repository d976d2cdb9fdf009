#!/usr/bin/env node
// gen-w3c.mjs — synthetic IIS 10 W3C log of a ConfigMgr Distribution Point.
// Usage: node gen-w3c.mjs LINES OUTFILE [SEED]
// Deterministic (mulberry32 PRNG), default IIS 10 field set, headers repeated
// every 25,000 lines as IIS does after a restart/rollover, CRLF line endings.
import { createWriteStream } from "node:fs";

const N = Number(process.argv[2] ?? 1_500_000);
const out = process.argv[3] ?? "u_ex240501.log";
let seed = Number(process.argv[4] ?? 42) >>> 0;
const rnd = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];

const FIELDS =
  "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
const header = (d) =>
  `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ${d} 00:00:00\r\n#Fields: ${FIELDS}\r\n`;

const UAS = [
  "Microsoft+BITS/7.8",
  "Microsoft+BITS/7.8",
  "Microsoft+BITS/7.8",
  "Microsoft+BITS/7.7",
  "SMS+CCM+5.0",
  "SMS+CCM+5.0+TS",
  "Microsoft-Delivery-Optimization/10.0",
];
const PKGS = Array.from({ length: 60 }, (_, i) => `PS1${String(i + 10).padStart(5, "0")}`);
const GUIDS = Array.from({ length: 40 }, () =>
  "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, () => Math.floor(rnd() * 16).toString(16)),
);
const OK_FILES = [
  "setup.exe",
  "Setup.msi",
  "data1.cab",
  "Program+Files/App/app.dll",
  "x64/vcredist_x64.exe",
  "Office/Data/16.0.17328.20184/stream.x64.x-none.dat",
  "install.ps1",
  "config.xml",
  "driver/netwtw08.inf",
  "driver/netwtw08.sys",
  "sources/install.wim",
  "readme.txt",
];
const EXT_DENIED = [
  "db/AdventureWorks_log.ldf",
  "db/AdventureWorks.mdf",
  "app/settings.config",
  "tools/build.csproj",
  "Scripts/helper.asax",
  "lib/legacy.mdb",
  "cert/server.cer.resx",
  "app.licx",
]; // 404.7
const HIDDEN = [
  "bin/app.exe",
  "App_Data/db.sqlite",
  "app/bin/Newtonsoft.Json.dll",
  "App_Code/helper.cs",
  "App_Browsers/x.browser",
]; // 404.8
const DOUBLE_ESC = ["Program%20Files/App/app.dll", "Visual+C%2B%2B/vc_redist.x64.exe", "files/a+b.txt"]; // 404.11
const CLIENTS = Array.from(
  { length: 4000 },
  (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${((i * 7) % 250) + 2}`,
);
const USERS = ["-", "-", "-", "CONTOSO\\SCCM-NAA", "CONTOSO\\WKS0001$"];

const ws = createWriteStream(out, { highWaterMark: 1 << 20 });
let buf = "";
const t = Date.UTC(2024, 4, 1, 0, 0, 0);
const step = (86400 * 1000) / N;
for (let i = 0; i < N; i++) {
  const ts = new Date(t + i * step);
  const iso = ts.toISOString();
  const d = iso.slice(0, 10),
    tm = iso.slice(11, 19);
  if (i % 25000 === 0) buf += header(d);
  const r = rnd();
  // Content-library URLs put the file in the QUERY string (".../sccm?/file"): IIS logs stem=".../sccm", query="/file".
  // Legacy package-path URLs (/SMS_DP_SMSPKG$/<PkgID>/<path>) are what request filtering can refuse (404.7/.8/.11).
  let method = "GET",
    stem,
    query = "-",
    status = 200,
    sub = 0,
    win32 = 0,
    ua = pick(UAS);
  const lib = `/SMS_DP_SMSPKG$/${pick(GUIDS)}`;
  const legacy = `/SMS_DP_SMSPKG$/${pick(PKGS)}`;
  if (r < 0.62) {
    stem = `${lib}/sccm`;
    query = `/${pick(OK_FILES)}`;
    status = 206;
  } else if (r < 0.8) {
    if (rnd() < 0.5) {
      stem = `${lib}/sccm`;
      query = `/${pick(OK_FILES)}`;
    } else stem = `${legacy}/${pick(OK_FILES)}`;
    method = rnd() < 0.5 ? "HEAD" : "GET";
  } else if (r < 0.88) {
    stem = rnd() < 0.5 ? lib : legacy;
    method = "PROPFIND";
    status = 207;
    ua = "SMS+CCM+5.0";
  } else if (r < 0.93) {
    stem = `${legacy}/${pick(EXT_DENIED)}`;
    status = 404;
    sub = 7;
    method = rnd() < 0.5 ? "HEAD" : "GET";
  } else if (r < 0.96) {
    stem = `${legacy}/${pick(HIDDEN)}`;
    status = 404;
    sub = 8;
  } else if (r < 0.975) {
    stem = `${legacy}/${pick(DOUBLE_ESC)}`;
    status = 404;
    sub = 11;
  } else if (r < 0.99) {
    stem = `${legacy}/missing/${pick(OK_FILES)}`;
    status = 404;
    sub = 0;
    win32 = 2;
  } else if (r < 0.995) {
    stem = `${lib}/sccm`;
    query = `/${pick(OK_FILES)}`;
    status = 401;
    sub = 2;
    win32 = 5;
  } else {
    stem = `${legacy}/${pick(OK_FILES)}`;
    status = 500;
    sub = 19;
    win32 = 13;
  }
  const user = status === 401 ? "-" : pick(USERS);
  const taken = status === 206 ? Math.floor(rnd() * 4000) + 15 : Math.floor(rnd() * 40);
  buf += `${d} ${tm} 10.1.0.20 ${method} ${stem} ${query} 80 ${user} ${pick(CLIENTS)} ${ua} - ${status} ${sub} ${win32} ${taken}\r\n`;
  if (buf.length > 1 << 20) {
    if (!ws.write(buf)) await new Promise((r) => ws.once("drain", r));
    buf = "";
  }
}
ws.end(buf);
