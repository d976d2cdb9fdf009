/**
 * The probe's HTTP client: one request at a time on a keep-alive connection (NTLM authenticates the connection, so the
 * handshake and the request that follows must share it), bounded body, per-request timeout, HTTPS with `--ca` /
 * `--insecure`. node:http, because undici hides the connection NTLM needs.
 */
import http from "node:http";
import https from "node:https";
import {
  authenticateMessage,
  type Credentials,
  negotiateMessage,
  ntlmScheme,
  ntlmToken,
  offersNtlm,
  parseChallenge,
} from "./ntlm.js";

export interface TlsOptions {
  ca?: Buffer;
  insecure?: boolean;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Body bytes kept (at most `keepBytes`). */
  body: Buffer;
  /** Body bytes received in total. */
  bytes: number;
  /** The body ended before Content-Length (connection dropped). */
  truncated: boolean;
  timeMs: number;
  /** Requests sent for this answer (NTLM legs included). */
  legs: number;
}

export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** One connection's worth of client: an agent with a single keep-alive socket. */
export class Connection {
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;
  constructor(
    readonly origin: URL,
    tls: TlsOptions,
    private readonly cred?: Credentials,
  ) {
    const https_ = origin.protocol === "https:";
    this.mod = https_ ? https : http;
    this.agent = https_
      ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: tls.ca, rejectUnauthorized: !tls.insecure })
      : new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  close(): void {
    this.agent.destroy();
  }

  private once(
    method: string,
    target: string,
    headers: Record<string, string>,
    opts: { timeoutMs: number; keepBytes: number; onData?: (b: Buffer) => void; signal?: AbortSignal },
  ): Promise<Omit<HttpResult, "legs">> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      /** Set once the status line arrived: a later reset is a truncated body, not a failed request. */
      let finish: ((truncated: boolean) => void) | undefined;
      const req = this.mod.request(
        {
          protocol: this.origin.protocol,
          hostname: this.origin.hostname.replace(/^\[|\]$/g, ""),
          port: this.origin.port || (this.origin.protocol === "https:" ? 443 : 80),
          method,
          path: target, // raw request target, sent as is
          headers: { Host: this.origin.host, ...headers },
          agent: this.agent,
          signal: opts.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          let bytes = 0;
          res.on("data", (c: Buffer) => {
            bytes += c.length;
            opts.onData?.(c);
            if (kept < opts.keepBytes) {
              const part = c.subarray(0, opts.keepBytes - kept);
              chunks.push(part);
              kept += part.length;
            }
          });
          let settled = false;
          const done = (truncated: boolean) => {
            if (settled) return;
            settled = true;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
              bytes,
              truncated,
              timeMs: Date.now() - started,
            });
          };
          finish = done;
          res.on("end", () => done(!res.complete));
          res.on("aborted", () => done(true));
          res.on("error", () => done(true));
        },
      );
      req.setTimeout(opts.timeoutMs, () => req.destroy(new TransportError("timed out", "ETIMEDOUT")));
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (finish) finish(true);
        else reject(e instanceof TransportError ? e : new TransportError(e.message, e.code ?? "EUNKNOWN"));
      });
      req.end();
    });
  }

  /** A request, with the NTLM handshake when the server asks for it and credentials were given. */
  async request(
    method: string,
    target: string,
    headers: Record<string, string>,
    opts: { timeoutMs: number; keepBytes: number; onData?: (b: Buffer) => void; signal?: AbortSignal },
  ): Promise<HttpResult> {
    let r = await this.once(method, target, headers, opts);
    let legs = 1;
    if (r.status !== 401 || !this.cred || !offersNtlm(r.headers["www-authenticate"])) return { ...r, legs };
    // MS-NLMP over HTTP: NEGOTIATE → 401 + CHALLENGE → AUTHENTICATE, on the same connection.
    const scheme = ntlmScheme(r.headers["www-authenticate"]) ?? "NTLM";
    const t1 = `${scheme} ${negotiateMessage().toString("base64")}`;
    r = await this.once(method, target, { ...headers, Authorization: t1 }, { ...opts, onData: undefined });
    legs++;
    const token = ntlmToken(r.headers["www-authenticate"]);
    if (r.status !== 401 || !token) return { ...r, legs };
    const t3 = authenticateMessage(parseChallenge(token), this.cred);
    r = await this.once(
      method,
      target,
      { ...headers, Authorization: `${scheme} ${t3.toString("base64")}` },
      opts,
    );
    legs++;
    return { ...r, legs };
  }
}
