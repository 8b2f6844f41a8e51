// What one fault case did to the issuance, from the client's answers and the stores' contents
// after the drain. Pure: the runner observes, this judges and renders.
import { countBy } from "@coupon/loadgen";

/** One user's request: the first answer, and the answer to its one retry if the first was neither. */
export interface Answer {
  userId: string;
  status: number;
  code: string;
  /** Milliseconds after the race started. */
  sentAtMs: number;
  doneAtMs: number;
  retry?: { status: number; code: string };
}

export interface CaseObservation {
  name: string;
  description: string;
  /** The stock in force at the end (after any PATCH). */
  stock: number;
  /** When the fault began and ended, in milliseconds after the race started. */
  faultAtMs: number;
  healedAtMs: number;
  answers: readonly Answer[];
  /** coupon_issues rows after the drain: one user id per row. */
  rows: readonly string[];
  /** Members of the coupon's issued set in Redis after the drain. */
  redisAccepted: readonly string[];
  /** Reconcile's verdict after the drain. */
  reconcile: { consistent: boolean; summary: string };
  /** Case-specific figures and the explanation of any loss. */
  notes?: readonly string[];
  checks?: Readonly<Record<string, number>>;
}

export interface CaseOutcome {
  name: string;
  description: string;
  requests: number;
  /** First answers that were 201. */
  created: number;
  /** 201s on the retry of a request whose first answer was an error. */
  createdOnRetry: number;
  rows: number;
  /** 201s (first or retry) whose user has no row. */
  lost: number;
  /** Rows whose user was answered 201 neither the first time nor on the retry. */
  rowsWithout201: number;
  /** Of those, the ones the retry did not tell either (201 or COUPON_ALREADY_ISSUED_BY_USER). */
  neverTold: number;
  duplicates: number;
  overIssue: number;
  /** First answers by status ("0" when no HTTP answer arrived). */
  byStatus: Record<string, number>;
  /** First answers that were errors (not 201, not 409, not 403), by code. */
  errorsByCode: Record<string, number>;
  /** From the first error answer sent to the last one answered, relative to the fault's start. */
  errorWindow: { fromMs: number; toMs: number } | null;
  faultDurationMs: number;
  reconcile: { consistent: boolean; summary: string };
  notes: readonly string[];
  checks: Readonly<Record<string, number>>;
}

const told = (answer: { status: number; code: string } | undefined) =>
  answer !== undefined && (answer.status === 201 || answer.code === "COUPON_ALREADY_ISSUED_BY_USER");

/** An answer that is the system's failure, not the user's business (sold out, closed). */
export function isErrorAnswer(answer: { status: number }): boolean {
  return answer.status === 0 || answer.status >= 500 || answer.status === 429;
}

export function judge(observation: CaseObservation): CaseOutcome {
  const { answers } = observation;
  const created = new Set(answers.filter((a) => a.status === 201).map((a) => a.userId));
  const createdOnRetry = new Set(answers.filter((a) => a.retry?.status === 201).map((a) => a.userId));
  const toldOnRetry = new Set(answers.filter((a) => told(a.retry)).map((a) => a.userId));
  const rows = new Set(observation.rows);
  const accepted = new Set(observation.redisAccepted);

  const errors = answers.filter(isErrorAnswer);
  const byStatus = countBy(answers, (answer) => String(answer.status));
  const errorsByCode = countBy(errors, (answer) => answer.code);
  const fromMs = Math.min(...errors.map((answer) => answer.sentAtMs));
  const toMs = Math.max(...errors.map((answer) => answer.doneAtMs));
  const rowsWithout201 = [...rows].filter((user) => !created.has(user) && !createdOnRetry.has(user));

  return {
    name: observation.name,
    description: observation.description,
    requests: answers.length,
    created: created.size,
    createdOnRetry: createdOnRetry.size,
    rows: observation.rows.length,
    lost: [...created, ...createdOnRetry].filter((user) => !rows.has(user)).length,
    rowsWithout201: rowsWithout201.length,
    neverTold: rowsWithout201.filter((user) => !toldOnRetry.has(user)).length,
    duplicates: observation.rows.length - rows.size,
    overIssue: Math.max(0, rows.size - observation.stock, accepted.size - observation.stock),
    byStatus,
    errorsByCode,
    errorWindow:
      errors.length === 0
        ? null
        : { fromMs: fromMs - observation.faultAtMs, toMs: toMs - observation.faultAtMs },
    faultDurationMs: observation.healedAtMs - observation.faultAtMs,
    reconcile: observation.reconcile,
    notes: observation.notes ?? [],
    checks: observation.checks ?? {},
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key}: ${n}`)
    .join(", ") || "none";

export function renderMarkdown(outcomes: readonly CaseOutcome[], context: string): string {
  const header =
    "| case | requests | 201 | 201 on retry | rows | lost | rows without 201 | never told | duplicates | over-issue | answers by status | error window (from the fault) | reconcile |";
  const rule = `|${" --- |".repeat(13)}`;
  const lines = outcomes.map((o) =>
    [
      o.name,
      o.requests,
      o.created,
      o.createdOnRetry,
      o.rows,
      o.lost,
      o.rowsWithout201,
      o.neverTold,
      o.duplicates,
      o.overIssue,
      counts(o.byStatus),
      o.errorWindow
        ? `${seconds(o.errorWindow.fromMs)} to ${seconds(o.errorWindow.toMs)} (fault ${seconds(o.faultDurationMs)})`
        : `no errors (fault ${seconds(o.faultDurationMs)})`,
      o.reconcile.consistent ? "consistent" : "DIFFERENT",
    ].join(" | "),
  );
  const details = outcomes.flatMap((o) => [
    "",
    `### ${o.name}`,
    "",
    o.description,
    "",
    `- error answers by code: ${counts(o.errorsByCode)}`,
    `- reconcile: ${o.reconcile.summary}`,
    ...Object.entries(o.checks).map(([name, value]) => `- ${name}: ${value}`),
    ...o.notes.map((note) => `- ${note}`),
  ]);
  return [
    "# Fault suite",
    "",
    context,
    "",
    header,
    rule,
    ...lines.map((line) => `| ${line} |`),
    "",
    "lost: told 201, no row. rows without 201: the user holds the coupon but was answered 201 neither time (the first",
    "answer was an error, its acceptance was not); never told: of those, the ones the retry did not tell with",
    "COUPON_ALREADY_ISSUED_BY_USER either.",
    "over-issue: rows or Redis acceptances beyond the stock in force at the end.",
    ...details,
    "",
  ].join("\n");
}
