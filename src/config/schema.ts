/**
 * The parts of the IIS schema dpdoctor merges, as data (spec iis-request-filtering.md §2.1, §2.2, §2.3, §3.5, §8.2).
 * Request filtering is validated strictly (unknown attribute/element → 500.19, like IIS); the other sections are
 * read leniently (only the attributes dpdoctor uses are typed; anything else is kept as a string).
 */

export type AttrType = "bool" | "uint" | "string" | "nonEmptyString";

export interface AttrSchema {
  type: AttrType;
  /** Schema `required="true"`: an `<add>` without it is invalid (500.19). */
  required?: boolean;
}

export interface CollectionSchema {
  /** Element name of an item: "add" (or "filteringRule", "mimeMap"). */
  addElement: string;
  /** The unique key attribute (`isUniqueKey="true"`). */
  key: string;
  /** Only `verb` is case-sensitive (§2.2, §6.6); all other keys compare case-insensitively (§2 header). */
  caseSensitive: boolean;
  /** false → items added at a lower level go BEFORE inherited ones (handlers). */
  mergeAppend: boolean;
  item: ElementSchema;
}

export interface ElementSchema {
  attrs: Record<string, AttrSchema>;
  children?: Record<string, ElementSchema>;
  collection?: CollectionSchema;
  /** Unknown attributes/children are tolerated (sections dpdoctor does not validate). */
  lenient?: boolean;
}

const bool: AttrSchema = { type: "bool" };
const uint: AttrSchema = { type: "uint" };
const requiredKey: AttrSchema = { type: "nonEmptyString", required: true };

function keyedList(key: string, caseSensitive = false): ElementSchema {
  return {
    attrs: {},
    collection: {
      addElement: "add",
      key,
      caseSensitive,
      mergeAppend: true,
      item: { attrs: { [key]: requiredKey } },
    },
  };
}

/** `system.webServer/security/requestFiltering` (§2.1, §2.2). */
export const REQUEST_FILTERING_SCHEMA: ElementSchema = {
  attrs: {
    allowDoubleEscaping: bool,
    allowHighBitCharacters: bool,
    unescapeQueryString: bool,
    removeServerHeader: bool,
  },
  children: {
    requestLimits: {
      attrs: { maxAllowedContentLength: uint, maxUrl: uint, maxQueryString: uint },
      children: {
        headerLimits: {
          attrs: {},
          collection: {
            addElement: "add",
            key: "header",
            caseSensitive: false,
            mergeAppend: true,
            item: { attrs: { header: requiredKey, sizeLimit: { type: "uint", required: true } } },
          },
        },
      },
    },
    fileExtensions: {
      attrs: { allowUnlisted: bool, applyToWebDAV: bool },
      collection: {
        addElement: "add",
        key: "fileExtension",
        caseSensitive: false,
        mergeAppend: true,
        // §2.2: `allowed` is required (schema default true, which only applies when IIS itself writes it).
        item: { attrs: { fileExtension: requiredKey, allowed: { type: "bool", required: true } } },
      },
    },
    verbs: {
      attrs: { allowUnlisted: bool, applyToWebDAV: bool },
      collection: {
        addElement: "add",
        key: "verb",
        caseSensitive: true, // §2.2 caseSensitive="true", §6.6
        mergeAppend: true,
        item: { attrs: { verb: requiredKey, allowed: { type: "bool", required: true } } },
      },
    },
    hiddenSegments: { ...keyedList("segment"), attrs: { applyToWebDAV: bool } },
    alwaysAllowedUrls: keyedList("url"),
    alwaysAllowedQueryStrings: keyedList("queryString"),
    denyUrlSequences: keyedList("sequence"),
    denyQueryStringSequences: keyedList("sequence"),
    filteringRules: {
      attrs: {},
      collection: {
        addElement: "filteringRule",
        key: "name",
        caseSensitive: false,
        mergeAppend: true,
        item: {
          // `name` is required but has no nonEmptyString validation (§2.2).
          attrs: {
            name: { type: "string", required: true },
            scanUrl: bool,
            scanQueryString: bool,
            scanAllRaw: bool,
            denyUnescapedPercent: bool,
          },
          children: {
            scanHeaders: keyedList("requestHeader"),
            appliesTo: keyedList("fileExtension"),
            denyStrings: keyedList("string"),
          },
        },
      },
    },
  },
};

/** `system.webServer/staticContent` (§2.3): mimeMap keyed by fileExtension (case-insensitive). */
export const STATIC_CONTENT_SCHEMA: ElementSchema = {
  attrs: {},
  lenient: true,
  collection: {
    addElement: "mimeMap",
    key: "fileExtension",
    caseSensitive: false,
    mergeAppend: true,
    item: {
      attrs: {
        fileExtension: { type: "string", required: true },
        mimeType: { type: "nonEmptyString", required: true },
      },
    },
  },
};

/**
 * `system.webServer/handlers` (§3.5, §9.1): ordered, first match wins. The IIS schema declares this collection
 * with mergeAppend="false", so mappings added in a web.config are evaluated before the inherited ones
 * [INF: from the IIS schema; not in the spec].
 */
export const HANDLERS_SCHEMA: ElementSchema = {
  attrs: { accessPolicy: { type: "string" } },
  lenient: true,
  collection: {
    addElement: "add",
    key: "name",
    caseSensitive: false,
    mergeAppend: false,
    item: {
      attrs: {
        name: requiredKey,
        path: { type: "string", required: true },
        verb: { type: "string", required: true },
      },
      lenient: true,
    },
  },
};

/** `system.webServer/modules` and `globalModules`: keyed by module name. */
export const MODULES_SCHEMA: ElementSchema = {
  attrs: {},
  lenient: true,
  collection: {
    addElement: "add",
    key: "name",
    caseSensitive: false,
    mergeAppend: true,
    item: { attrs: { name: requiredKey }, lenient: true },
  },
};

export const RF_SECTION = "system.webServer/security/requestFiltering";
export const STATIC_SECTION = "system.webServer/staticContent";
export const HANDLERS_SECTION = "system.webServer/handlers";
export const MODULES_SECTION = "system.webServer/modules";
export const GLOBAL_MODULES_SECTION = "system.webServer/globalModules";
export const SITES_SECTION = "system.applicationHost/sites";

/** The sections an EffectiveConfig is built from, with their schema. */
export const MERGED_SECTIONS: ReadonlyArray<readonly [string, ElementSchema]> = [
  [RF_SECTION, REQUEST_FILTERING_SCHEMA],
  [STATIC_SECTION, STATIC_CONTENT_SCHEMA],
  [HANDLERS_SECTION, HANDLERS_SCHEMA],
  [MODULES_SECTION, MODULES_SCHEMA],
];

export interface SectionDeclaration {
  name: string;
  overrideModeDefault: "Allow" | "Deny";
  allowDefinition: "MachineOnly" | "MachineToApplication" | "AppHostOnly" | "Everywhere" | "MachineToWebRoot";
}

/**
 * Registrations used when a file has no `<configSections>` (a snippet loaded as applicationHost): the values every
 * shipped applicationHost.config has (§3.1).
 */
export const BUILTIN_DECLARATIONS: SectionDeclaration[] = [
  { name: RF_SECTION, overrideModeDefault: "Allow", allowDefinition: "Everywhere" },
  { name: STATIC_SECTION, overrideModeDefault: "Allow", allowDefinition: "Everywhere" },
  { name: HANDLERS_SECTION, overrideModeDefault: "Deny", allowDefinition: "MachineToApplication" },
  { name: MODULES_SECTION, overrideModeDefault: "Deny", allowDefinition: "MachineToApplication" },
  { name: GLOBAL_MODULES_SECTION, overrideModeDefault: "Allow", allowDefinition: "AppHostOnly" },
  { name: SITES_SECTION, overrideModeDefault: "Allow", allowDefinition: "AppHostOnly" },
];
