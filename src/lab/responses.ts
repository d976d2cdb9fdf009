/**
 * Bodies the emulator answers with: IIS's remote error pages (detailed errors are local-only by default, so a BITS
 * client sees the short page; the substatus never travels on the wire — only the W3C log has it, configmgr-dp-bits.md
 * §5.2), the http.sys pages, and the PROPFIND multistatus of the ConfigMgr content handler (§2.3, compared with
 * corpus logs/cmtrace/smsts_cb1906_propfind_dav_listing_and_hash.log).
 */
import { encodeRelativePath, encodeSegment } from "../dp/urlforms.js";
import type { ContentEntry } from "./content.js";

const IIS_TITLES: Record<number, [string, string]> = {
  400: ["400 - Bad Request.", "The request could not be understood by the server."],
  401: [
    "401 - Unauthorized: Access is denied due to invalid credentials.",
    "You do not have permission to view this directory or page using the credentials that you supplied.",
  ],
  403: [
    "403 - Forbidden: Access is denied.",
    "You do not have permission to view this directory or page using the credentials that you supplied.",
  ],
  404: [
    "404 - File or directory not found.",
    "The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.",
  ],
  405: [
    "405 - HTTP verb used to access this page is not allowed.",
    "The page you are looking for cannot be displayed because an invalid method (HTTP verb) was used to attempt access.",
  ],
  413: [
    "413 - Request Entity Too Large.",
    "The page was not displayed because the request entity is too large.",
  ],
  431: ["431 - Request Header Fields Too Large.", "The request headers are too large."],
  500: [
    "500 - Internal server error.",
    "There is a problem with the resource you are looking for, and it cannot be displayed.",
  ],
  503: ["503 - Service unavailable.", "The server is temporarily unable to service your request."],
};

/** IIS 10's remote ("custom") error page for a status: no substatus, no config details (those are local-only). */
export function iisErrorPage(status: number): string {
  const [title, detail] = IIS_TITLES[status] ?? [`${status} - Error.`, "An error occurred on the server."];
  return (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n' +
    '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>\r\n' +
    `<title>${title}</title>\r\n</head>\r\n<body>\r\n<div id="header"><h1>Server Error</h1></div>\r\n` +
    `<div id="content">\r\n <div class="content-container"><fieldset>\r\n  <h2>${title}</h2>\r\n` +
    `  <h3>${detail}</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n`
  );
}

/** http.sys's own page (503 when the pool is stopped, 400 for a URL it rejects). */
export function httpSysPage(status: number): string {
  const title =
    status === 503 ? "Service Unavailable" : status === 414 ? "Request URL Too Long" : "Bad Request";
  const h2 =
    status === 503
      ? "Service Unavailable"
      : status === 414
        ? "Request URL Too Long"
        : "Bad Request - Invalid URL";
  return (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n' +
    `<HTML><HEAD><TITLE>${title}</TITLE>\r\n<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n` +
    `<BODY><h2>${h2}</h2>\r\n<hr><p>HTTP Error ${status}. ${status === 503 ? "The service is unavailable." : "The request is badly formed."}</p>\r\n</BODY></HTML>\r\n`
  );
}

function xmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface ListingTarget {
  /** `http://host[:port]` as the client addressed the server (the Host header). */
  origin: string;
  vdir: string;
  /** The ID as the client asked for it. */
  id: string;
  /** ConfigMgr 2007 vdir: plain WebDAV hrefs; otherwise the content handler's `sccm?` hrefs (§2.3). */
  plainHrefs: boolean;
  /** Folder listed, relative to the package root ("" = the package). */
  folder: string;
}

function hrefOf(t: ListingTarget, rel: string, isDir: boolean): string {
  const vdir = encodeSegment(t.vdir);
  const id = encodeSegment(t.id);
  if (t.plainHrefs) {
    const p = rel === "" ? "" : `/${encodeRelativePath(rel)}`;
    return `${t.origin}/${vdir}/${id}${p}${isDir ? "/" : ""}`;
  }
  // Real DP: the package itself is `…/SMS_DP_SMSPKG$/sccm?/<id>/`; entries `…/<id>/sccm?/<rel>` (folders without '/')
  if (rel === "") return `${t.origin}/${vdir}/sccm?/${id}/`;
  return `${t.origin}/${vdir}/${id}/sccm?/${encodeRelativePath(rel)}`;
}

function responseXml(href: string, e: ContentEntry): string {
  const h = xmlText(href);
  const props = e.isDirectory
    ? `<D:getcontenttype/><D:supportedlock/><D:getetag/><D:creationdate/><D:iscollection>1</D:iscollection><D:resourcetype><D:collection/></D:resourcetype><D:ishidden>0</D:ishidden><D:displayname>${h}</D:displayname><D:getlastmodified>${e.rel === "" ? "" : e.mtime.toUTCString()}</D:getlastmodified><D:getcontentlanguage/><D:getcontentlength>0</D:getcontentlength>`
    : `<D:getcontenttype/><D:lockdiscovery/><D:supportedlock/><D:getetag/><D:getcontentlanguage/><D:iscollection>0</D:iscollection><D:creationdate/><D:resourcetype/><D:ishidden>0</D:ishidden><D:displayname>${h}</D:displayname><D:getlastmodified>${e.mtime.toUTCString()}</D:getlastmodified><D:getcontentlength>${e.size}</D:getcontentlength>`;
  return `<D:response><D:href>${h}</D:href><D:propstat><D:status>HTTP/1.1 200 OK</D:status><D:prop>${props}</D:prop></D:propstat></D:response>`;
}

/** The 207 body: the listed folder itself, then its entries (already limited to the requested Depth). */
export function multistatus(t: ListingTarget, self: ContentEntry, entries: readonly ContentEntry[]): string {
  let body = `<?xml version="1.0" encoding="utf-8" ?><D:multistatus xmlns:D="DAV:">`;
  body += responseXml(hrefOf(t, self.rel, true), self);
  for (const e of entries) body += responseXml(hrefOf(t, e.rel, e.isDirectory), e);
  return `${body}</D:multistatus>`;
}

/** The body IIS's static file handler sends with a 301 for a folder requested without its trailing `/` (§9.2). */
export function movedPage(location: string): string {
  const href = location.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<head><title>Document Moved</title></head>\n<body><h1>Object Moved</h1>This document may be found <a HREF="${href}">here</a></body>`;
}
