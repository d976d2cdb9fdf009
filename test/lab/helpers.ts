import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

/** A deterministic pseudo-random buffer (no Math.random: failures must reproduce). */
export function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The seed package ABC00123 (configmgr-dp-bits.md §5.5) plus a few more shapes. */
export function seedPackage(): { dir: string; root: string; files: Record<string, Buffer> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dpd-lab-test-"));
  const root = path.join(dir, "ABC00123");
  const files: Record<string, Buffer> = {
    "setup.exe": bytes(70_000, 1),
    "blah/file.ldf": bytes(3_000, 2),
    "bin/tool.dll": bytes(1_000, 3),
    "docs/read me.txt": bytes(500, 4),
    "x64/deep/a.msi": bytes(9_000, 5),
    "empty.dat": Buffer.alloc(0),
  };
  for (const [rel, b] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), b);
  }
  writeFileSync(path.join(dir, "secret.txt"), "outside the root");
  return { dir, root, files };
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with the target sent exactly as given (no URL normalisation, unlike fetch). */
export function raw(
  base: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  agent: http.Agent | false = false,
): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: target,
        headers: { "User-Agent": "Microsoft BITS/7.8", ...headers },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
