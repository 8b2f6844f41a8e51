export { type FireOptions, type FireRequest, type FireResult, fireAll } from "./fire.ts";
export { countBy, type LatencySummary, percentile, summarize } from "./stats.ts";
export { type MintOptions, mintTokens, type TokenBatch } from "./tokens.ts";
