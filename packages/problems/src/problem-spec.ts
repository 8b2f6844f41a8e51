/** The problem+json answers of one status that a route gives, by their `code`. */
export interface ProblemSpec {
  codes: readonly string[];
  /** Headers that some of these answers carry (name → what it means). */
  headers?: Readonly<Record<string, string>>;
}

/** Problem answers by status. */
export type Problems = Readonly<Partial<Record<number, ProblemSpec>>>;
