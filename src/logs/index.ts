/** Public API of the artifact readers (issue 4). Stable: `diagnose` and tests import from here. */
export { parseBitsCsv, parseBitsEvents, parseBitsText, parseBitsXml } from "./bits.js";
export {
  AGENT_LABEL,
  type AgentKind,
  classifyAgent,
  classifyRequest,
  URL_FORM_LABEL,
} from "./classify.js";
export { cmTraceTime, parseCmTrace, parseSmsSimple } from "./cmtrace.js";
export { ARTIFACT_KINDS, type Detection, detectKind } from "./detect.js";
export {
  type ArtifactRead,
  EVTX_MESSAGE,
  expandPaths,
  type ReadOptions,
  readArtifact,
  readArtifactFromBytes,
  readArtifacts,
  sniffFile,
} from "./read.js";
export * from "./records.js";
export {
  type FileSummary,
  type LogsOptions,
  type LogsReport,
  type RefusedEntry,
  type RetryPattern,
  summarizeLogs,
} from "./summary.js";
export { HTTPERR_REASONS, type ParseResult, parseHttpErr, parseW3C } from "./w3c.js";
