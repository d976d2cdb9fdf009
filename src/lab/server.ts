/**
 * `startLab`: a node:http server that answers like a ConfigMgr distribution point on IIS 10.
 * Spec: configmgr-dp-bits.md §2 (vdirs, URL forms, PROPFIND, HEAD then ranged GET), §4.4/§4.5 (logs), §6 F11/F12
 * (faults); iis-request-filtering.md §10 (DP surface).
 *
 * Every request is decided by the ONE engine (`evaluate`): a refusal is answered with the IIS status and IIS's remote
 * error page (the substatus is only in the W3C line, as on a real DP). Only what the engine passes reaches the
 * emulated handlers: the ConfigMgr content handler (CB vdir, `sccm?` and direct forms, PROPFIND listings) and the
 * static file handler of the 2007 per-drive vdir. Nothing here decides a filtering rule.
 */

import { randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { platformFileFacts } from "../check/facts.js";
import { loadServer } from "../config/load.js";
import type { ServerConfig } from "../config/types.js";
import { parseDpUrl, splitRelativePath } from "../dp/urlforms.js";
import { canonicalizePath, encodePathForWire, splitTarget } from "../engine/canonical.js";
import { evaluate } from "../engine/evaluate.js";
import type { HttpRequest, Verdict } from "../engine/types.js";
import { InputError } from "../errors.js";
import { challengeMessage, NtlmError, ntlmToken, parseAuthenticate, verifyNtlmV2 } from "../probe/ntlm.js";
import { type ContentEntry, findPackage, folderServed, openContent, type ServedPackage } from "./content.js";
import { IisLogs } from "./iis-log.js";
import { type ByteRange, contentRange, multipartPlan, parseRange } from "./ranges.js";
import { httpSysPage, iisErrorPage, movedPage, multistatus } from "./responses.js";
import { servedByWebDav } from "./webdav.js";

export interface LabFaults {
  /** Answer `status` for requests whose decoded URL contains `path` (case-insensitive). */
  fail?: { status: 500 | 503; path: string }[];
  /** Ignore Range: 200 with the whole file (F12: a proxy or handler without range support). */
  noRange?: boolean;
  /** Cut every response body after this many bytes (connection reset; HTTPERR Connection_Abandoned_By_AppPool). */
  dropAfterBytes?: number;
  /** Wait before answering. */
  delayMs?: number;
  /** Application pool stopped: http.sys answers 503, HTTPERR AppOffline, no W3C line (F11). */
  stopPool?: boolean;
}

export interface LabOptions {
  /** Package source folder, or a content library root (PkgLib/DataLib/FileLib). */
  root: string;
  packageId?: string;
  contentId?: string;
  /** Loaded configuration; else `config`/`profile` are loaded with `loadServer`. */
  server?: ServerConfig;
  config?: string;
  profile?: "iis" | "aspnet";
  site?: string;
  /** Bind address (default 127.0.0.1: loopback only unless told otherwise). */
  host?: string;
  port?: number;
  /** Where u_exYYMMDD.log and httperr1.log go (default: a new temp folder). */
  logDir?: string;
  faults?: LabFaults;
  /** Require NTLM (NTLMv2) for every request; users and passwords the emulated domain knows. */
  ntlmUsers?: { domain: string; user: string; password: string }[];
  /** Folder of signature files `<ContentID>.tar` served under SMS_DP_SMSSIG$ (none: every signature is 404). */
  signatureDir?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: Buffer; cert: Buffer };
  /** Bounds (defaults: 256 connections, 16 KB of headers as http.sys MaxRequestBytes, 30 s per request). */
  maxConnections?: number;
  maxHeaderBytes?: number;
  requestTimeoutMs?: number;
}

export interface Lab {
  url: string;
  host: string;
  port: number;
  logDir: string;
  w3cDir: string;
  httpErrDir: string;
  packages: readonly ServedPackage[];
  /** What opening the content said (package share detected, unreadable INIs…). */
  warnings: readonly string[];
  /** Assumptions the emulator makes (spec inferences), for output. */
  inferences: readonly string[];
  /** Change the faults of a running lab. */
  setFaults(f: LabFaults): void;
  /** Serve with another configuration from now on (e.g. after `fix --apply` on the emulator's copy). */
  setServer(server: ServerConfig): void;
  flushLogs(): void;
  close(): Promise<void>;
}

const SERVER_HEADER = "Microsoft-IIS/10.0";

/** What the emulator assumes where the spec could not settle the DP's behaviour (printed by `lab serve`). */
export const LAB_INFERENCES: readonly string[] = Object.freeze([
  "PROPFIND answers 207 Multi-Status with the whole tree for Depth infinity (configmgr §10 item 3 [INF])",
  "sccm? requests are logged with cs-uri-stem …/<ID>/sccm and cs-uri-query /<path> (configmgr §2.3 [INF])",
  "cs-uri-stem is the decoded path, spaces written as '+' (configmgr §4.4 [INF])",
  "PROPFIND on SMS_DP_SMSPKG<drive>$ is answered by WebDAV, not the static file handler (configmgr §2.1 [INF])",
  "the ConfigMgr content handler answers 404 for folders and for names it will not open (its behaviour is undocumented)",
  "--drop-after logs sc-win32-status 1236 and HTTPERR Connection_Abandoned_By_AppPool (emulator's choice)",
]);
const WIN32_FILE_NOT_FOUND = 2;
const WIN32_ACCESS_DENIED = 5;
const WIN32_CONNECTION_ABORTED = 1236;
const SEC_E_INVALID_TOKEN = 2148074254; // 0x8009030E as IIS logs it for the NTLM continue leg

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  started: number;
  method: string;
  target: string;
  username?: string;
  /** Set once logged (one W3C line per request). */
  logged?: boolean;
}

function remote(sock: Socket | undefined): { ip: string; port: number } {
  const ip = (sock?.remoteAddress ?? "-").replace(/^::ffff:/, "");
  return { ip, port: sock?.remotePort ?? 0 };
}
function local(sock: Socket | undefined): { ip: string; port: number } {
  const ip = (sock?.localAddress ?? "-").replace(/^::ffff:/, "");
  return { ip, port: sock?.localPort ?? 0 };
}

export async function startLab(opts: LabOptions): Promise<Lab> {
  const content = openContent(opts.root, { packageId: opts.packageId, contentId: opts.contentId });
  let server: ServerConfig = opts.server ?? loadServer({ config: opts.config, profile: opts.profile });
  const siteName = () => opts.site ?? server.defaultSiteName;
  let faults: LabFaults = { ...(opts.faults ?? {}) };
  const logDir = opts.logDir ?? mkdtempSync(path.join(os.tmpdir(), "dpdoctor-lab-"));
  const logs = new IisLogs(logDir, 1);
  try {
    mkdirSync(logs.w3cDir, { recursive: true });
    mkdirSync(logs.httpErrDir, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create the log folder: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      file: logDir,
    });
  }
  // The Hidden attribute (404.9 on the static 2007 form, iis spec §9.2) is known on Windows only (check/facts.ts).
  const hiddenFacts = new Map(
    content.packages.map((p) => [p, p.source === "folder" ? platformFileFacts(p.root) : undefined]),
  );
  const signatures = opts.signatureDir ? folderServed(opts.signatureDir, "SMSSIG$") : undefined;
  const ntlm = opts.ntlmUsers && opts.ntlmUsers.length > 0 ? opts.ntlmUsers : undefined;
  /** NTLM is connection-based: the user of an authenticated socket, or the challenge in flight. */
  const authed = new WeakMap<Socket, string>();
  const pendingChallenge = new WeakMap<Socket, Buffer>();

  const logW3C = (
    x: Exchange,
    status: number,
    substatus: number,
    win32: number,
    stem: string,
    query?: string,
  ) => {
    if (x.logged) return;
    x.logged = true;
    const l = local(x.req.socket);
    const r = remote(x.req.socket);
    logs.writeW3C({
      time: new Date(),
      serverIp: l.ip,
      method: x.method,
      uriStem: stem,
      uriQuery: query,
      port: l.port,
      username: x.username,
      clientIp: r.ip,
      userAgent: x.req.headers["user-agent"],
      referer: x.req.headers.referer,
      status,
      substatus,
      win32Status: win32,
      timeTakenMs: Date.now() - x.started,
    });
  };
  const logHttpErr = (x: Exchange, status: number | undefined, reason: string, queue?: string) => {
    const l = local(x.req.socket);
    const r = remote(x.req.socket);
    logs.writeHttpErr({
      time: new Date(),
      clientIp: r.ip,
      clientPort: r.port,
      serverIp: l.ip,
      serverPort: l.port,
      protocolVersion: `HTTP/${x.req.httpVersion}`,
      method: x.method,
      uri: x.target,
      status,
      siteId: "1",
      reason,
      queueName: queue,
    });
  };

  const sendPage = (
    x: Exchange,
    status: number,
    body: string,
    headers: Record<string, string | number | string[]> = {},
  ) => {
    const buf = Buffer.from(body, "latin1");
    x.res.writeHead(status, {
      "Content-Type": "text/html",
      Server: SERVER_HEADER,
      "Content-Length": buf.length,
      ...headers,
    });
    x.res.end(x.method === "HEAD" ? undefined : buf);
  };

  /** Decoded stem as IIS logs it (§4.4 [INF]: decoded path, '$' raw). */
  const stemOf = (v: Verdict | undefined, rawPath: string): string => {
    if (v?.canonicalPath) return v.canonicalPath;
    const c = canonicalizePath(rawPath);
    return typeof c === "string" ? c : rawPath;
  };

  /**
   * NTLM (connection-based, as IIS Windows Authentication): runs after request filtering, so a refused URL is answered
   * 404.x with cs-username "-" even without credentials (IIS pipeline: BeginRequest before AuthenticateRequest). The
   * legs are logged as IIS does: 401.2 (anonymous), 401.1 with 2148074254 (challenge sent), then the request.
   * Returns true when it answered the request.
   */
  const authenticate = (
    x: Exchange,
    rawPath: string,
    query: string | undefined,
    ntlm: NonNullable<LabOptions["ntlmUsers"]>,
  ): boolean => {
    const sock = x.req.socket;
    const user = authed.get(sock);
    if (user) x.username = user;
    else {
      const token = ntlmToken(x.req.headers.authorization);
      const stem = stemOf(undefined, rawPath);
      try {
        if (token && token.length >= 12 && token.readUInt32LE(8) === 1) {
          const challenge = randomBytes(8);
          pendingChallenge.set(sock, challenge);
          const domain = ntlm[0].domain;
          logW3C(x, 401, 1, SEC_E_INVALID_TOKEN, stem, query);
          sendPage(x, 401, iisErrorPage(401), {
            "WWW-Authenticate": `${/^\s*Negotiate\b/i.test(String(x.req.headers.authorization)) ? "Negotiate" : "NTLM"} ${challengeMessage(challenge, domain, Date.now()).toString("base64")}`,
          });
          return true;
        }
        if (token && token.length >= 12 && token.readUInt32LE(8) === 3) {
          const challenge = pendingChallenge.get(sock);
          pendingChallenge.delete(sock);
          const auth = parseAuthenticate(token);
          const known = ntlm.find(
            (u) =>
              u.user.toLowerCase() === auth.user.toLowerCase() &&
              u.domain.toLowerCase() === auth.domain.toLowerCase(),
          );
          if (challenge && known && verifyNtlmV2(auth, challenge, known.password)) {
            x.username = `${known.domain}\\${known.user}`;
            authed.set(sock, x.username);
          } else {
            logW3C(x, 401, 1, 1326 /* ERROR_LOGON_FAILURE */, stem, query);
            sendPage(x, 401, iisErrorPage(401), { "WWW-Authenticate": "NTLM" });
            return true;
          }
        }
      } catch (e) {
        if (!(e instanceof NtlmError)) throw e;
        logW3C(x, 400, 0, 0, stem, query);
        sendPage(x, 400, iisErrorPage(400));
        return true;
      }
      if (!x.username) {
        logW3C(x, 401, 2, WIN32_ACCESS_DENIED, stem, query);
        sendPage(x, 401, iisErrorPage(401), { "WWW-Authenticate": ["Negotiate", "NTLM"] });
        return true;
      }
    }
    return false;
  };

  const handle = async (x: Exchange) => {
    const { rawPath, query } = splitTarget(x.target);
    if (faults.stopPool) {
      // F11: http.sys answers, no W3C line (configmgr-dp-bits.md §6 F11)
      logHttpErr(x, 503, "AppOffline", "SMS Distribution Points Pool");
      x.logged = true;
      sendPage(x, 503, httpSysPage(503), { Connection: "close" });
      return;
    }
    if (faults.delayMs && faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));

    // Which package file does the URL name? (routing only; the engine decides refusals)
    const canon = canonicalizePath(rawPath);
    const parts = typeof canon === "string" ? parseDpUrl(encodePathForWire(canon), query ?? "") : undefined;
    let pkg: ServedPackage | undefined;
    let lookup: ReturnType<ServedPackage["lookup"]> | undefined;
    let names: string[] = [];
    if (parts?.kind === "dp-content" && parts.contentId) {
      pkg = findPackage(content.packages, parts.contentId);
      names = parts.relativePath ? splitRelativePath(parts.relativePath) : [];
      if (pkg) lookup = pkg.lookup(names);
    } else if (parts?.kind === "dp-signature" && parts.contentId && signatures && !parts.relativePath) {
      // SMS_DP_SMSSIG$/<ContentID>.tar: RDC signature files (configmgr §2.2, §3.3), one level, same safe lookup
      pkg = signatures;
      names = [`${parts.contentId}.tar`];
      lookup = signatures.lookup(names);
    }
    const file: HttpRequest["file"] =
      lookup?.kind === "found"
        ? {
            exists: true,
            isDirectory: lookup.entry.isDirectory,
            hidden: pkg ? hiddenFacts.get(pkg)?.(lookup.entry.abs)?.hidden : undefined,
          }
        : { exists: false };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(x.req.headers)) if (typeof v === "string") headers[k] = v;
    const verdict = evaluate(
      { method: x.method, target: x.target, headers, file },
      { config: server, siteName: siteName() },
    );
    const stem = stemOf(verdict, rawPath);

    // PROPFIND on the 2007 vdir is answered by WebDAV (a BITS DP "must have ... WebDAV enabled", configmgr §2.1), not by
    // the static file handler: only refusals before the handler (http.sys, configuration, request filtering) apply [INF].
    const webDavServes = servedByWebDav(x.method, verdict, parts?.form);
    const beforeHandler =
      verdict.layer === "httpsys" || verdict.layer === "config" || verdict.layer === "request-filtering";
    if (!(verdict.status !== 200 && beforeHandler) && ntlm && authenticate(x, rawPath, query, ntlm)) return;
    if (verdict.status !== 200 && !webDavServes) {
      // A refusal (or a static-handler answer such as 301/403.14/404.0/405): IIS's status, its remote page.
      const extra: Record<string, string> = {};
      if (verdict.status === 301)
        extra.Location = `${opts.tls ? "https" : "http"}://${x.req.headers.host ?? "localhost"}${encodePathForWire(stem)}/`;
      const win32 = verdict.status === 404 && verdict.substatus === 0 ? WIN32_FILE_NOT_FOUND : 0;
      logW3C(x, verdict.status, verdict.substatus, win32, stem, query);
      const page =
        verdict.layer === "httpsys"
          ? httpSysPage(verdict.status)
          : extra.Location
            ? movedPage(extra.Location)
            : iisErrorPage(verdict.status);
      sendPage(x, verdict.status, page, extra);
      return;
    }

    const failing = faults.fail?.find((f) =>
      `${stem}${query === undefined ? "" : `?${query}`}`.toLowerCase().includes(f.path.toLowerCase()),
    );
    if (failing) {
      logW3C(x, failing.status, 0, 0, stem, query);
      sendPage(x, failing.status, iisErrorPage(failing.status));
      return;
    }

    if (!pkg || !lookup || lookup.kind !== "found") {
      // Not in the package, or a name the emulator never serves (traversal, stream names, links leaving the root).
      logW3C(x, 404, 0, WIN32_FILE_NOT_FOUND, stem, query);
      sendPage(x, 404, iisErrorPage(404));
      return;
    }
    const entry = lookup.entry;
    if (x.method === "PROPFIND") {
      if (!entry.isDirectory) {
        logW3C(x, 404, 0, WIN32_FILE_NOT_FOUND, stem, query);
        sendPage(x, 404, iisErrorPage(404));
        return;
      }
      const depthHeader = String(x.req.headers.depth ?? "infinity")
        .trim()
        .toLowerCase();
      const depth = depthHeader === "0" ? 0 : depthHeader === "1" ? 1 : Number.POSITIVE_INFINITY;
      const all = depth === 0 ? [] : listUnder(pkg, entry.rel, depth);
      const body = Buffer.from(
        multistatus(
          {
            origin: `${opts.tls ? "https" : "http"}://${x.req.headers.host ?? "localhost"}`,
            vdir: parts?.vdir ?? "SMS_DP_SMSPKG$",
            id: parts?.contentId ?? pkg.contentId,
            plainHrefs: parts?.form === "direct2007",
            folder: entry.rel,
          },
          entry,
          all,
        ),
        "utf8",
      );
      logW3C(x, 207, 0, 0, stem, query);
      x.res.writeHead(207, {
        "Content-Type": 'text/xml; charset="utf-8"',
        "Content-Length": body.length,
        Server: SERVER_HEADER,
      });
      x.res.end(body);
      return;
    }
    if (x.method !== "GET" && x.method !== "HEAD") {
      logW3C(x, 405, 0, 0, stem, query);
      sendPage(x, 405, iisErrorPage(405), { Allow: "GET, HEAD, PROPFIND" });
      return;
    }
    if (entry.isDirectory) {
      // The content handler does not list folders over GET [INF]; the 2007 static case is decided by the engine.
      logW3C(x, 404, 0, WIN32_FILE_NOT_FOUND, stem, query);
      sendPage(x, 404, iisErrorPage(404));
      return;
    }
    await sendFile(
      x,
      entry,
      stem,
      query,
      parts?.form === "direct2007" ? mimeOf(stem) : "application/octet-stream",
    );
  };

  const listUnder = (pkg: ServedPackage, folder: string, depth: number): ContentEntry[] => {
    const prefix = folder === "" ? "" : `${folder}/`;
    const folderDepth = folder === "" ? 0 : folder.split("/").length;
    return pkg
      .list(Number.isFinite(depth) ? folderDepth + depth : Number.POSITIVE_INFINITY)
      .filter((e) => e.rel.startsWith(prefix) && e.rel !== folder)
      .filter((e) => !Number.isFinite(depth) || e.rel.split("/").length - folderDepth <= depth);
  };

  const mimeOf = (stem: string): string => {
    const dot = stem.lastIndexOf(".");
    if (dot < 0 || dot < stem.lastIndexOf("/")) return "application/octet-stream";
    const ext = stem.slice(dot).toLowerCase();
    return (
      server.effective(siteName(), stem).staticContent.index.get(ext)?.mimeType ?? "application/octet-stream"
    );
  };

  const sendFile = async (
    x: Exchange,
    entry: ContentEntry,
    stem: string,
    query: string | undefined,
    type: string,
  ) => {
    const size = entry.size;
    const etag = `"${Math.floor(entry.mtime.getTime()).toString(16)}:0"`;
    const common: Record<string, string | number> = {
      "Accept-Ranges": "bytes",
      ETag: etag,
      "Last-Modified": entry.mtime.toUTCString(),
      Server: SERVER_HEADER,
    };
    const rangeHeader = faults.noRange ? undefined : x.req.headers.range;
    const ifRange = x.req.headers["if-range"];
    const range =
      ifRange && ifRange !== etag && ifRange !== entry.mtime.toUTCString()
        ? ({ kind: "none" } as const)
        : parseRange(rangeHeader, size);
    if (range.kind === "unsatisfiable") {
      logW3C(x, 416, 0, 0, stem, query);
      x.res.writeHead(416, { ...common, "Content-Range": `bytes */${size}`, "Content-Length": 0 });
      x.res.end();
      return;
    }
    const head = x.method === "HEAD";
    if (range.kind === "none") {
      x.res.writeHead(200, { ...common, "Content-Type": type, "Content-Length": size });
      if (head) return finish(x, 200, stem, query, () => x.res.end());
      return streamParts(
        x,
        entry.abs,
        [{ head: undefined, range: { start: 0, end: size - 1 } }],
        undefined,
        stem,
        query,
        200,
      );
    }
    if (range.ranges.length === 1) {
      const r = range.ranges[0];
      x.res.writeHead(206, {
        ...common,
        "Content-Type": type,
        "Content-Range": contentRange(r, size),
        "Content-Length": r.end - r.start + 1,
      });
      if (head) return finish(x, 206, stem, query, () => x.res.end());
      return streamParts(x, entry.abs, [{ head: undefined, range: r }], undefined, stem, query, 206);
    }
    const boundary = randomBytes(12).toString("hex");
    const plan = multipartPlan(range.ranges, size, type, boundary);
    x.res.writeHead(206, {
      ...common,
      "Content-Type": `multipart/byteranges; boundary=${boundary}`,
      "Content-Length": plan.length,
    });
    if (head) return finish(x, 206, stem, query, () => x.res.end());
    return streamParts(x, entry.abs, plan.parts, plan.tail, stem, query, 206);
  };

  const finish = (x: Exchange, status: number, stem: string, query: string | undefined, end: () => void) => {
    logW3C(x, status, 0, 0, stem, query);
    end();
  };

  /** Streams the parts honouring back-pressure; applies --drop-after. */
  const streamParts = async (
    x: Exchange,
    abs: string,
    parts: { head?: Buffer; range: ByteRange }[],
    tail: Buffer | undefined,
    stem: string,
    query: string | undefined,
    status: number,
  ) => {
    const total =
      parts.reduce((n, p) => n + (p.head?.length ?? 0) + Math.max(0, p.range.end - p.range.start + 1), 0) +
      (tail?.length ?? 0);
    let sent = 0;
    let budget =
      faults.dropAfterBytes !== undefined && faults.dropAfterBytes >= 0 ? faults.dropAfterBytes : Infinity;
    const write = async (chunk: Buffer): Promise<boolean> => {
      if (budget !== Infinity) {
        if (chunk.length >= budget) {
          // send what the budget allows, and reset the connection only once those bytes left (a destroy would
          // discard them)
          const part = chunk.subarray(0, budget);
          budget = 0;
          if (part.length > 0) await new Promise<void>((r) => x.res.write(part, () => r()));
          return false;
        }
        budget -= chunk.length;
      }
      sent += chunk.length;
      // The line is written when the last bytes leave (IIS logs on completion): a client that has the whole body
      // must find its line in the log.
      if (sent >= total) logW3C(x, status, 0, 0, stem, query);
      if (!x.res.write(chunk)) await new Promise<void>((r) => x.res.once("drain", r).once("close", r));
      return !x.res.destroyed;
    };
    const drop = () => {
      logW3C(x, status, 0, WIN32_CONNECTION_ABORTED, stem, query);
      logHttpErr(x, undefined, "Connection_Abandoned_By_AppPool", "SMS Distribution Points Pool");
      x.res.socket?.destroy();
    };
    try {
      for (const p of parts) {
        if (p.head && !(await write(p.head))) return drop();
        if (p.range.end < p.range.start) continue; // empty file
        for await (const chunk of createReadStream(abs, { start: p.range.start, end: p.range.end })) {
          if (!(await write(chunk as Buffer))) return drop();
        }
      }
      if (tail && !(await write(tail))) return drop();
      logW3C(x, status, 0, 0, stem, query);
      x.res.end();
    } catch {
      logW3C(x, status, 0, WIN32_CONNECTION_ABORTED, stem, query);
      x.res.destroy();
    }
  };

  const serverOptions = {
    maxHeaderSize: opts.maxHeaderBytes ?? 16384,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    headersTimeout: Math.min(opts.requestTimeoutMs ?? 30_000, 20_000),
    keepAliveTimeout: 5_000,
    // how often request/header timeouts are enforced (node's default, 30 s, would let a slow client hold a slot)
    connectionsCheckingInterval: Math.min(1_000, opts.requestTimeoutMs ?? 1_000),
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const x: Exchange = { req, res, started: Date.now(), method: req.method ?? "", target: req.url ?? "/" };
    req.resume(); // a DP takes no request bodies; drain them
    res.on("close", () => {
      if (!x.logged && !res.writableFinished) {
        // client went away mid-answer: IIS logs win32 64 (ERROR_NETNAME_DELETED)
        logW3C(
          x,
          res.statusCode || 200,
          0,
          64,
          stemOf(undefined, splitTarget(x.target).rawPath),
          splitTarget(x.target).query,
        );
      }
    });
    handle(x).catch((err) => {
      logW3C(x, 500, 0, 0, stemOf(undefined, splitTarget(x.target).rawPath), splitTarget(x.target).query);
      if (!res.headersSent) sendPage(x, 500, iisErrorPage(500));
      else res.destroy(err as Error);
    });
  };
  const httpServer: http.Server = opts.tls
    ? https.createServer({ ...serverOptions, key: opts.tls.key, cert: opts.tls.cert }, onRequest)
    : http.createServer(serverOptions, onRequest);
  httpServer.maxConnections = opts.maxConnections ?? 256;
  const sockets = new Set<Socket>();
  httpServer.on(opts.tls ? "secureConnection" : "connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  httpServer.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // http.sys refuses a malformed or oversized request before IIS sees it: HTTPERR, no W3C line (§4.5)
    const tooBig = err.code === "HPE_HEADER_OVERFLOW";
    const l = local(socket as Socket);
    const r = remote(socket as Socket);
    logs.writeHttpErr({
      time: new Date(),
      clientIp: r.ip,
      clientPort: r.port,
      serverIp: l.ip,
      serverPort: l.port,
      protocolVersion: "HTTP/1.1",
      method: "-",
      uri: "-",
      status: 400,
      siteId: "-",
      reason: tooBig
        ? "RequestLength"
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "Timer_EntityBody"
          : "BadRequest",
    });
    if ((socket as Socket).writable) {
      const page = httpSysPage(400);
      (socket as Socket).end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=us-ascii\r\nServer: Microsoft-HTTPAPI/2.0\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(page)}\r\n\r\n${page}`,
      );
    } else (socket as Socket).destroy();
  });

  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(opts.port ?? 0, host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${opts.tls ? "https" : "http"}://${urlHost}:${port}`,
    host,
    port,
    logDir,
    w3cDir: logs.w3cDir,
    httpErrDir: logs.httpErrDir,
    packages: content.packages,
    warnings: content.warnings,
    inferences: LAB_INFERENCES,
    setFaults(f) {
      faults = { ...f };
    },
    setServer(s) {
      server = s;
    },
    flushLogs() {
      logs.flush();
    },
    async close() {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 500).unref();
      });
      logs.flush();
    },
  };
}
