/**
 * Turns a plan's changes into byte-preserving splices of applicationHost.config: only the inserted or changed
 * elements differ; BOM, CRLF, indentation, comments and attribute order elsewhere stay as they were. New lines copy
 * the surrounding end-of-line style and indentation.
 */

import { attr, type XmlDocument, type XmlElement } from "../config/xml.js";
import { type Change, COLLECTION_KEY, type CollectionName, type ScopePlan, type Unlock } from "./model.js";

export interface Splice {
  start: number;
  end: number;
  text: string;
  /** Order among splices at the same offset (lower = earlier in the file). */
  seq: number;
}

/** Applies splices (non-overlapping) to `text`. */
export function applySplices(text: string, splices: readonly Splice[]): string {
  const sorted = [...splices].sort((a, b) => b.start - a.start || b.seq - a.seq);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const s of sorted) {
    if (s.end > limit) throw new Error(`overlapping splices at ${s.start}..${s.end}`);
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
    limit = s.start;
  }
  return out;
}

const RF_PATH = ["system.webServer", "security", "requestFiltering"] as const;
const STATIC_PATH = ["system.webServer", "staticContent"] as const;

/** The end-of-line style of the file ("\r\n" when CRLF dominates). */
export function detectEol(text: string): string {
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return crlf > lf ? "\r\n" : "\n";
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Indentation of the line holding `offset` when only whitespace precedes it there; otherwise undefined. */
function indentBefore(text: string, offset: number): string | undefined {
  const ls = lineStartOf(text, offset);
  const lead = text.slice(ls, offset);
  return /^[ \t]*$/.test(lead) ? lead : undefined;
}

function indentOf(text: string, el: XmlElement): string {
  return indentBefore(text, el.start) ?? "";
}

/** The file's indentation step: the first parent/child pair on separate lines, else 4 spaces. */
export function detectIndentUnit(doc: XmlDocument): string {
  const visit = (el: XmlElement): string | undefined => {
    const parentIndent = indentBefore(doc.text, el.start);
    for (const child of el.children) {
      const ci = indentBefore(doc.text, child.start);
      if (
        parentIndent !== undefined &&
        ci !== undefined &&
        ci.length > parentIndent.length &&
        ci.startsWith(parentIndent)
      )
        return ci.slice(parentIndent.length);
    }
    for (const child of el.children) {
      const found = visit(child);
      if (found) return found;
    }
    return undefined;
  };
  return visit(doc.root) ?? "    ";
}

/** A new element to write. */
interface NewNode {
  name: string;
  attrs: [string, string][];
  children: NewNode[];
  /** A collection directive (`<add>`, `<remove>`, `<mimeMap>`): always written, never merged into an existing one. */
  fresh?: boolean;
}

function serialize(node: NewNode, indent: string, unit: string, eol: string): string {
  const attrs = node.attrs.map(([n, v]) => ` ${n}="${escapeXmlAttr(v)}"`).join("");
  if (node.children.length === 0) return `${indent}<${node.name}${attrs} />`;
  const inner = node.children.map((c) => serialize(c, indent + unit, unit, eol) + eol).join("");
  return `${indent}<${node.name}${attrs}>${eol}${inner}${indent}</${node.name}>`;
}

/** Escapes a value for a double-quoted attribute. */
export function escapeXmlAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Follows a child path (`["system.webServer","security","requestFiltering"]`), first match at each step. */
export function descend(el: XmlElement, path: readonly string[]): XmlElement | undefined {
  let cur: XmlElement | undefined = el;
  for (const name of path) {
    cur = cur.children.find((c) => c.name === name);
    if (!cur) return undefined;
  }
  return cur;
}

/** Paths compare like IIS location paths: case-insensitive, without leading/trailing slashes [INF §8.1]. */
export function normalizeLocationPath(p: string): string {
  const t = p.replace(/\\/g, "/").replace(/^\/+|\/+$/g, "");
  return t === "." ? "" : t.toLowerCase();
}

/** The `<location>` elements directly under `<configuration>` for a path. */
export function findLocations(doc: XmlDocument, locationPath: string): XmlElement[] {
  const want = normalizeLocationPath(locationPath);
  return doc.root.children.filter(
    (c) => c.name === "location" && normalizeLocationPath(attr(c, "path")?.value ?? "") === want,
  );
}

/** The element that holds the scope's `system.webServer` (a location, or the root for the server level). */
export function scopeContainer(doc: XmlDocument, scope: ScopePlan): XmlElement | undefined {
  if (scope.locationPath === "") return doc.root;
  return findLocations(doc, scope.locationPath)[0];
}

/** The requestFiltering element written at the scope, if any. */
export function scopeRequestFiltering(doc: XmlDocument, scope: ScopePlan): XmlElement | undefined {
  const c = scopeContainer(doc, scope);
  return c ? descend(c, RF_PATH) : undefined;
}

function keyEquals(collection: CollectionName, a: string, b: string): boolean {
  return collection === "verbs" ? a === b : a.toLowerCase() === b.toLowerCase(); // §2.2: verb keys are case-sensitive
}

/** The `<add>` element with that key written directly in a collection element. */
export function findLocalAdd(coll: XmlElement | undefined, collection: CollectionName, key: string) {
  const keyAttr = COLLECTION_KEY[collection];
  return coll?.children.find(
    (c) => c.name === "add" && keyEquals(collection, attr(c, keyAttr)?.value ?? "", key),
  );
}

class SpliceBuilder {
  readonly splices: Splice[] = [];
  private seq = 0;
  readonly eol: string;
  readonly unit: string;
  constructor(readonly doc: XmlDocument) {
    this.eol = detectEol(doc.text);
    this.unit = detectIndentUnit(doc);
  }
  add(start: number, end: number, text: string): void {
    this.splices.push({ start, end, text, seq: this.seq++ });
  }

  setAttribute(el: XmlElement, name: string, value: string): void {
    const existing = attr(el, name);
    if (existing) {
      this.add(existing.valueStart, existing.valueEnd, escapeXmlAttr(value));
      return;
    }
    const last = el.attributes[el.attributes.length - 1];
    const after = last ? last.valueEnd + 1 : el.start + 1 + el.name.length;
    this.add(after, after, ` ${name}="${escapeXmlAttr(value)}"`);
  }

  deleteElement(el: XmlElement): void {
    const t = this.doc.text;
    const lead = indentBefore(t, el.start);
    let end = el.end;
    const rest = /^[ \t]*(\r?\n)?/.exec(t.slice(end)) as RegExpExecArray;
    if (lead !== undefined && rest[1]) {
      end += rest[0].length;
      this.add(lineStartOf(t, el.start), end, "");
    } else this.add(el.start, el.end, "");
  }

  /** Inserts new children at the end of `parent`, on their own lines, indented like their siblings. */
  appendChildren(parent: XmlElement, nodes: NewNode[]): void {
    if (nodes.length === 0) return;
    const t = this.doc.text;
    const parentIndent = indentOf(t, parent);
    const lastChild = parent.children[parent.children.length - 1];
    const childIndent = (lastChild && indentBefore(t, lastChild.start)) ?? parentIndent + this.unit;
    const block = nodes.map((n) => serialize(n, childIndent, this.unit, this.eol)).join(this.eol);
    if (parent.selfClosing) {
      let s = parent.startTagEnd - 2;
      while (s > 0 && /[ \t\r\n]/.test(t[s - 1] as string)) s--;
      this.add(s, parent.startTagEnd, `>${this.eol}${block}${this.eol}${parentIndent}</${parent.name}>`);
      return;
    }
    const close = parent.endTagStart as number;
    if (indentBefore(t, close) !== undefined) {
      const ls = lineStartOf(t, close);
      if (ls > parent.startTagEnd) {
        this.add(ls, ls, `${block}${this.eol}`);
        return;
      }
    }
    this.add(close, close, `${this.eol}${block}${this.eol}${parentIndent}`);
  }
}

/** The tree of elements a scope's changes need, rooted at the scope's container (`<location>` or `<configuration>`). */
function desiredTree(changes: readonly Change[]): NewNode {
  const root: NewNode = { name: "", attrs: [], children: [] };
  const child = (parent: NewNode, name: string): NewNode => {
    let c = parent.children.find((x) => x.name === name && !x.fresh);
    if (!c) {
      c = { name, attrs: [], children: [] };
      parent.children.push(c);
    }
    return c;
  };
  const path = (names: readonly string[]) => names.reduce(child, root);
  // removes before adds, so an add never meets the inherited key (§8.2: a duplicate add is 500.19)
  for (const c of [...changes].sort((a, b) => rank(a) - rank(b))) {
    if (c.op === "setAttribute") {
      const owner = c.owner === "" ? path(RF_PATH) : path([...RF_PATH, c.owner]);
      owner.attrs.push([c.name, c.value]);
    } else if (c.op === "removeItem") {
      const key: [string, string] = [COLLECTION_KEY[c.collection], c.key];
      path([...RF_PATH, c.collection]).children.push({
        name: "remove",
        attrs: [key],
        children: [],
        fresh: true,
      });
    } else if (c.op === "addItem") {
      const a: [string, string][] = [[COLLECTION_KEY[c.collection], c.key]];
      if (c.allowed !== undefined) a.push(["allowed", String(c.allowed)]);
      path([...RF_PATH, c.collection]).children.push({ name: "add", attrs: a, children: [], fresh: true });
    } else if (c.op === "addMimeMap") {
      const a: [string, string][] = [
        ["fileExtension", c.extension],
        ["mimeType", c.mimeType],
      ];
      path(STATIC_PATH).children.push({ name: "mimeMap", attrs: a, children: [], fresh: true });
    }
  }
  return root;
}

function rank(c: Change): number {
  return c.op === "removeItem" ? 0 : c.op === "addItem" ? 1 : 2;
}

/** Writes `want`'s children into `el`: existing elements get attributes and recurse, missing ones are appended. */
function mergeInto(builder: SpliceBuilder, el: XmlElement, want: NewNode): void {
  const missing: NewNode[] = [];
  for (const w of want.children) {
    const existing = w.fresh ? undefined : el.children.find((c) => c.name === w.name);
    if (!existing) {
      missing.push(w);
      continue;
    }
    for (const [n, v] of w.attrs) builder.setAttribute(existing, n, v);
    mergeInto(builder, existing, w);
  }
  builder.appendChildren(el, missing);
}

/** Splices that write one scope's changes (and its unlocks) into the document. */
export function spliceScope(builder: SpliceBuilder, scope: ScopePlan): void {
  const doc = builder.doc;
  const container = scopeContainer(doc, scope);
  const rf = container ? descend(container, RF_PATH) : undefined;
  for (const c of scope.changes) {
    if (c.op !== "deleteLocalItem" && c.op !== "allowLocalItem") continue;
    const el = findLocalAdd(
      rf?.children.find((x) => x.name === c.collection),
      c.collection,
      c.key,
    );
    if (!el) throw new Error(`internal: no local <add> for ${c.key} in ${scope.locationPath}`);
    if (c.op === "deleteLocalItem") builder.deleteElement(el);
    else builder.setAttribute(el, "allowed", "true");
  }
  const tree = desiredTree(scope.changes);
  if (tree.children.length > 0) {
    if (container) mergeInto(builder, container, tree);
    else
      insertLocation(builder, {
        name: "location",
        attrs: [["path", scope.locationPath]],
        children: tree.children,
      });
  }
  for (const u of scope.unlocks) spliceUnlock(builder, u);
}

/** New `<location>` blocks go after the last element of `<configuration>`, where IIS and appcmd put them. */
function insertLocation(builder: SpliceBuilder, node: NewNode): void {
  const root = builder.doc.root;
  const last = root.children[root.children.length - 1];
  if (!last) {
    builder.appendChildren(root, [node]);
    return;
  }
  const indent = indentBefore(builder.doc.text, last.start) ?? builder.unit;
  builder.add(last.end, last.end, `${builder.eol}${serialize(node, indent, builder.unit, builder.eol)}`);
}

function spliceUnlock(builder: SpliceBuilder, u: Unlock): void {
  const t = builder.doc.text;
  if (u.newValue === null) {
    let s = u.attrStart;
    while (s > 0 && /[ \t]/.test(t[s - 1] as string)) s--;
    builder.add(s, u.attrEnd, "");
  } else {
    const eq = t.indexOf("=", u.attrStart);
    const q = t.slice(eq + 1, u.attrEnd).search(/["']/) + eq + 1;
    builder.add(q + 1, u.attrEnd - 1, escapeXmlAttr(u.newValue));
  }
}

/** The edited text for a whole plan (all scopes). */
export function editText(doc: XmlDocument, scopes: readonly ScopePlan[]): string {
  const builder = new SpliceBuilder(doc);
  for (const scope of scopes) spliceScope(builder, scope);
  return applySplices(doc.text, builder.splices);
}
