export {
  type FireOptions,
  type FireRequest,
  type FireResult,
  fireAll,
  fireOpenLoop,
  type OpenLoopOptions,
  type OpenLoopResult,
} from "./fire.ts";
export {
  type Audit,
  type AuditInput,
  auditIssuance,
  callApi,
  type FlashSale,
  type FlashSaleSetup,
  openFlashSale,
} from "./flash-sale.ts";
export { countBy, type LatencySummary, percentile, summarize, type TimelineBin, timeline } from "./stats.ts";
export { type MintOptions, mintTokens, type TokenBatch } from "./tokens.ts";
export {
  parseWrkOutput,
  runWrk,
  type WrkOptions,
  type WrkRecords,
  type WrkResult,
  type WrkUser,
} from "./wrk.ts";
