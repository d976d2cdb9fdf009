/**
 * Unified diff of two texts by line (Myers' O(ND) algorithm), with 3 lines of context, as `diff -u` prints it.
 * Lines keep their own end-of-line characters, so a CRLF file diffs as CRLF lines; a missing final newline is
 * marked with "\ No newline at end of file".
 */

function splitLinesKeepEol(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", start)) {
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

/** Shortest edit script between two line arrays (Myers 1986), returned in order. */
function myers(a: string[], b: string[]): Op[] {
  // trim the common prefix/suffix first: edits are small and local
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[max + k - 1] as number) < (v[max + k + 1] as number))
          ? (v[max + k + 1] as number)
          : (v[max + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // backtrack
  const mid: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    const prevK =
      k === -d || (k !== d && (vd[max + k - 1] as number) < (vd[max + k + 1] as number)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : (vd[max + prevK] as number);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      mid.push({ kind: " ", line: A[x - 1] as string, a: pre + x - 1, b: pre + y - 1 });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) mid.push({ kind: "+", line: B[y - 1] as string, a: pre + x, b: pre + y - 1 });
      else mid.push({ kind: "-", line: A[x - 1] as string, a: pre + x - 1, b: pre + y });
    }
    x = prevX;
    y = prevY;
  }
  mid.reverse();
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ kind: " ", line: a[i] as string, a: i, b: i });
  ops.push(...mid);
  for (let i = 0; i < suf; i++)
    ops.push({
      kind: " ",
      line: a[a.length - suf + i] as string,
      a: a.length - suf + i,
      b: b.length - suf + i,
    });
  return ops;
}

/** `diff -u`-style text; "" when the texts are equal. */
export function unifiedDiff(
  oldText: string,
  newText: string,
  oldName: string,
  newName: string,
  context = 3,
): string {
  if (oldText === newText) return "";
  const a = splitLinesKeepEol(oldText);
  const b = splitLinesKeepEol(newText);
  const ops = myers(a, b);
  const out: string[] = [`--- ${oldName}\n`, `+++ ${newName}\n`];
  const changed = ops.map((o, i) => (o.kind !== " " ? i : -1)).filter((i) => i >= 0);
  let i = 0;
  while (i < changed.length) {
    let first = changed[i] as number;
    let last = first;
    while (i + 1 < changed.length && (changed[i + 1] as number) - last <= 2 * context + 1)
      last = changed[++i] as number;
    i++;
    first = Math.max(0, first - context);
    last = Math.min(ops.length - 1, last + context);
    const hunk = ops.slice(first, last + 1);
    const aLines = hunk.filter((o) => o.kind !== "+").length;
    const bLines = hunk.filter((o) => o.kind !== "-").length;
    // diff -u: "start,count", where a zero count gives the line after which the change goes
    const firstA = hunk.find((o) => o.kind !== "+");
    const firstB = hunk.find((o) => o.kind !== "-");
    const aStart = aLines === 0 ? (hunk[0] as Op).a : (firstA as Op).a + 1;
    const bStart = bLines === 0 ? (hunk[0] as Op).b : (firstB as Op).b + 1;
    out.push(`@@ -${aStart},${aLines} +${bStart},${bLines} @@\n`);
    for (const o of hunk) {
      out.push(`${o.kind}${o.line}`);
      if (!o.line.endsWith("\n")) out.push("\n\\ No newline at end of file\n");
    }
  }
  return out.join("");
}
