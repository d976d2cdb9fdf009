/**
 * Schema-driven merging of one configuration element into the effective state (spec iis-request-filtering.md
 * §8.2 collections, §8.3 locking). Errors never throw: each becomes a ConfigError (→ 500.19 for requests that
 * read the section, §8.4) and the offending directive is skipped.
 */

import { type AttrSchema, type ElementSchema, RF_SECTION } from "./schema.js";
import type { ConfigError, SourceRef } from "./types.js";
import { lineText, type XmlAttribute, type XmlDocument, type XmlElement } from "./xml.js";

export interface AttrState {
  value: boolean | number | string;
  source: SourceRef;
}

/** A lock and the file that set it: locks bind only configuration read from OTHER files (lower levels). */
interface Lock {
  source: SourceRef;
}
interface ExceptLock extends Lock {
  except: Set<string>;
}

export interface ElState {
  attrs: Map<string, AttrState>;
  children: Map<string, ElState>;
  items: ItemState[];
  /** foldedKey → item, for O(1) duplicate and remove checks. */
  keys: Map<string, ItemState>;
  lockedAttrs: Map<string, Lock>;
  lockAllAttrsExcept: ExceptLock | null;
  lockedElements: Map<string, Lock>;
  lockAllElementsExcept: ExceptLock | null;
}

export interface ItemState {
  key: string;
  /** Key as compared: lower-cased unless the collection is case-sensitive. */
  foldedKey: string;
  el: ElState;
  source: SourceRef;
  lockedBy: SourceRef | null;
  /** Put there by the loader (not written in any file); an explicit <add> of the same key replaces it silently. */
  assumed?: boolean;
}

export function newState(): ElState {
  return {
    attrs: new Map(),
    children: new Map(),
    items: [],
    keys: new Map(),
    lockedAttrs: new Map(),
    lockAllAttrsExcept: null,
    lockedElements: new Map(),
    lockAllElementsExcept: null,
  };
}

/** What a merge needs to know about the level being applied. */
export interface MergeContext {
  doc: XmlDocument;
  /** File of the level being applied; locks set in this same file do not bind it. */
  file: string;
  section: string;
  errors: ConfigError[];
}

/** Longest SourceRef.text kept as the whole line; longer lines (minified files) show the construct itself. */
const MAX_TEXT = 200;

function clip(t: string): string {
  return t.length <= MAX_TEXT ? t : `${t.slice(0, MAX_TEXT - 1)}…`;
}

/**
 * Where a construct (an element's start tag, an attribute) is; `text` is its line when the line is short and holds one
 * tag only, else the construct itself — a line with several elements (`<fileExtensions allowUnlisted="false"><add
 * fileExtension=".exe" … />`) would let a reader of the text take another element's value for this one's
 * (src/engine/reason-source.ts).
 */
export function sourceAt(doc: XmlDocument, line: number, column: number, construct?: string): SourceRef {
  const text = lineText(doc, line);
  const oneTag = text.indexOf("<", 1) < 0;
  return {
    file: doc.file,
    line,
    column,
    text: !construct || (text.length <= MAX_TEXT && oneTag) ? clip(text) : clip(construct),
  };
}
/** Where an element starts; `text` is its line (or its start tag when the line is very long). */
export function elementSource(doc: XmlDocument, el: XmlElement): SourceRef {
  return sourceAt(doc, el.line, el.column, doc.text.slice(el.start, el.startTagEnd));
}
function attrSource(doc: XmlDocument, a: XmlAttribute): SourceRef {
  return sourceAt(doc, a.line, a.column, doc.text.slice(a.nameStart, a.valueEnd + 1));
}
function where(s: SourceRef): string {
  return `${s.file}:${s.line}`;
}

function report(ctx: MergeContext, message: string, source: SourceRef): void {
  ctx.errors.push({ section: ctx.section, message, source });
}

/** IIS reads booleans case-insensitively ("True" works) [INF]; anything else is invalid (§2.2 note, §12 #61). */
export function parseBool(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
}
/** uint: decimal digits, 0 … 4294967295. */
export function parseUint(raw: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= 4294967295 ? n : undefined;
}

function parseValue(
  schema: AttrSchema,
  a: XmlAttribute,
  ctx: MergeContext,
  elName: string,
): boolean | number | string | undefined {
  switch (schema.type) {
    case "bool": {
      const b = parseBool(a.value);
      if (b === undefined) {
        report(
          ctx,
          `invalid value "${a.value}" for attribute '${a.name}' of <${elName}>: expected true or false`,
          attrSource(ctx.doc, a),
        );
      }
      return b;
    }
    case "uint": {
      const n = parseUint(a.value);
      if (n === undefined) {
        report(
          ctx,
          `invalid value "${a.value}" for attribute '${a.name}' of <${elName}>: expected a whole number 0-4294967295`,
          attrSource(ctx.doc, a),
        );
      }
      return n;
    }
    case "nonEmptyString":
      if (a.value === "") {
        report(
          ctx,
          `attribute '${a.name}' of <${elName}> must not be empty (nonEmptyString)`,
          attrSource(ctx.doc, a),
        );
        return undefined;
      }
      return a.value;
    default:
      return a.value;
  }
}

const LOCK_ATTRS = new Set([
  "lockAttributes",
  "lockAllAttributesExcept",
  "lockElements",
  "lockAllElementsExcept",
  "lockItem",
]);

/** Attributes every element may carry that are not data: namespaces, XDT transforms, configSource. */
function isMetaAttribute(name: string): boolean {
  return name.startsWith("xmlns") || name.includes(":") || name === "configSource";
}

function splitList(v: string): Set<string> {
  return new Set(
    v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );
}

function attrLockedBy(state: ElState, name: string, file: string): Lock | null {
  const l = state.lockedAttrs.get(name);
  if (l && l.source.file !== file) return l;
  const x = state.lockAllAttrsExcept;
  if (x && x.source.file !== file && !x.except.has(name)) return x;
  return null;
}
function elementLockedBy(state: ElState, name: string, file: string): Lock | null {
  const l = state.lockedElements.get(name);
  if (l && l.source.file !== file) return l;
  const x = state.lockAllElementsExcept;
  if (x && x.source.file !== file && !x.except.has(name)) return x;
  return null;
}

function recordLocks(state: ElState, el: XmlElement, ctx: MergeContext): void {
  for (const a of el.attributes) {
    if (!LOCK_ATTRS.has(a.name) || a.name === "lockItem") continue;
    const source = attrSource(ctx.doc, a);
    const names = splitList(a.value);
    if (a.name === "lockAttributes") for (const n of names) state.lockedAttrs.set(n, { source });
    else if (a.name === "lockElements") for (const n of names) state.lockedElements.set(n, { source });
    else if (a.name === "lockAllAttributesExcept") state.lockAllAttrsExcept = { source, except: names };
    else state.lockAllElementsExcept = { source, except: names };
  }
}

/** Merge the attributes and children of `el` into `state` (§8.2: attributes inherit individually). */
export function mergeElement(state: ElState, el: XmlElement, schema: ElementSchema, ctx: MergeContext): void {
  for (const a of el.attributes) {
    if (LOCK_ATTRS.has(a.name) || isMetaAttribute(a.name)) continue;
    const s = schema.attrs[a.name];
    if (!s) {
      if (!schema.lenient) {
        report(ctx, `unrecognized attribute '${a.name}' on <${el.name}>`, attrSource(ctx.doc, a));
      } else {
        state.attrs.set(a.name, { value: a.value, source: attrSource(ctx.doc, a) });
      }
      continue;
    }
    const lock = attrLockedBy(state, a.name, ctx.file);
    if (lock) {
      report(
        ctx,
        `attribute '${a.name}' of <${el.name}> is locked at a parent level (${where(lock.source)}): it cannot be set here`,
        attrSource(ctx.doc, a),
      );
      continue;
    }
    const v = parseValue(s, a, ctx, el.name);
    if (v !== undefined) state.attrs.set(a.name, { value: v, source: attrSource(ctx.doc, a) });
  }
  const col = schema.collection;
  let insertAt = 0; // mergeAppend=false: this level's adds go before inherited items, in document order
  for (const c of el.children) {
    if (col && (c.name === col.addElement || c.name === "remove" || c.name === "clear")) {
      const lock = elementLockedBy(state, c.name, ctx.file);
      if (lock) {
        report(
          ctx,
          `<${c.name}> is not allowed here: locked by lockElements at a parent level (${where(lock.source)})`,
          elementSource(ctx.doc, c),
        );
        continue;
      }
      if (c.name === "clear") {
        const locked = state.items.find((i) => i.lockedBy && i.lockedBy.file !== ctx.file);
        if (locked) {
          report(
            ctx,
            `<clear/> is not allowed: entry '${locked.key}' is locked (lockItem) at ${where(locked.lockedBy as SourceRef)}`,
            elementSource(ctx.doc, c),
          );
          continue;
        }
        state.items = [];
        state.keys.clear();
        insertAt = 0;
        continue;
      }
      const keyAttr = c.attributes.find((a) => a.name === col.key);
      if (!keyAttr || (keyAttr.value === "" && col.item.attrs[col.key]?.type === "nonEmptyString")) {
        report(
          ctx,
          `<${c.name}> in <${el.name}> is missing its required key attribute '${col.key}'`,
          elementSource(ctx.doc, c),
        );
        continue;
      }
      const folded = col.caseSensitive ? keyAttr.value : keyAttr.value.toLowerCase();
      let existing = state.keys.get(folded);
      if (existing?.assumed && c.name === col.addElement) {
        state.items.splice(state.items.indexOf(existing), 1);
        state.keys.delete(folded);
        existing = undefined;
      }
      if (c.name === "remove") {
        if (!existing) continue; // §8.2: removing an absent key is not an error
        const item = existing;
        if (item.lockedBy && item.lockedBy.file !== ctx.file) {
          report(
            ctx,
            `cannot remove '${item.key}': the entry is locked (lockItem) at ${where(item.lockedBy)}`,
            elementSource(ctx.doc, c),
          );
          continue;
        }
        const idx = state.items.indexOf(item);
        state.items.splice(idx, 1);
        state.keys.delete(folded);
        if (idx < insertAt) insertAt--;
        continue;
      }
      if (existing) {
        // §8.2, §12 #60; for request filtering by analogy (§13 item 20).
        report(
          ctx,
          `cannot add duplicate collection entry of type '${c.name}' with unique key attribute '${col.key}' set to '${keyAttr.value}' (already added at ${where(existing.source)})${ctx.section === RF_SECTION ? " [INF §13.20: observed for mimeMap, assumed for request filtering]" : ""}`,
          elementSource(ctx.doc, c),
        );
        continue;
      }
      const itemState = newState();
      mergeElement(itemState, c, col.item, ctx);
      let complete = true;
      for (const [name, s] of Object.entries(col.item.attrs)) {
        if (s.required && !c.attributes.some((a) => a.name === name)) {
          report(
            ctx,
            `<${c.name}> in <${el.name}> is missing required attribute '${name}'`,
            elementSource(ctx.doc, c),
          );
          complete = false;
        }
      }
      if (!complete) continue;
      const lockItem = c.attributes.find((a) => a.name === "lockItem");
      const item: ItemState = {
        key: keyAttr.value,
        foldedKey: folded,
        el: itemState,
        source: elementSource(ctx.doc, c),
        lockedBy: lockItem && parseBool(lockItem.value) === true ? attrSource(ctx.doc, lockItem) : null,
      };
      state.keys.set(folded, item);
      if (col.mergeAppend) state.items.push(item);
      else state.items.splice(insertAt++, 0, item);
      continue;
    }
    const childSchema = schema.children?.[c.name];
    if (!childSchema) {
      if (!schema.lenient) {
        report(ctx, `unrecognized element <${c.name}> inside <${el.name}>`, elementSource(ctx.doc, c));
      }
      continue;
    }
    const lock = elementLockedBy(state, c.name, ctx.file);
    if (lock) {
      report(
        ctx,
        `element <${c.name}> is locked at a parent level (lockElements at ${where(lock.source)}): it cannot be set here`,
        elementSource(ctx.doc, c),
      );
      continue;
    }
    let child = state.children.get(c.name);
    if (!child) {
      child = newState();
      state.children.set(c.name, child);
    }
    mergeElement(child, c, childSchema, ctx);
  }
  recordLocks(state, el, ctx);
}
