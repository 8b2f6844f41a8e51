import type { PrismaClient } from "@coupon/db";

/** Calls the platform's JSON API; any answer but 2xx is an error that quotes the body. */
export async function callApi<T>(
  origin: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export interface FlashSaleSetup {
  origin: string;
  adminEmail: string;
  adminPassword: string;
  stock: number;
  name: string;
  /** How long the event runs from its start; an hour when not given. */
  openForMs?: number;
}

export interface FlashSale {
  eventId: number;
  couponId: number;
  stock: number;
}

/** Logs in as the admin and opens an event, running from a second ago (for an hour unless told), with one coupon. */
export async function openFlashSale(setup: FlashSaleSetup): Promise<FlashSale> {
  const { origin } = setup;
  const login = await callApi<{ token: { accessToken: string } }>(origin, "POST", "/users/login", {
    email: setup.adminEmail,
    password: setup.adminPassword,
  });
  const admin = login.token.accessToken;
  const now = Date.now();
  const event = await callApi<{ eventId: number }>(
    origin,
    "POST",
    "/events",
    {
      name: setup.name,
      startsAt: new Date(now - 1_000).toISOString(),
      endsAt: new Date(now + (setup.openForMs ?? 3_600_000)).toISOString(),
    },
    admin,
  );
  const coupon = await callApi<{ couponId: number }>(
    origin,
    "POST",
    "/coupons",
    {
      eventId: event.eventId,
      discountType: "AMOUNT",
      discountPrice: 1000,
      maxQuantity: setup.stock,
      validFrom: new Date(now).toISOString(),
      validUntil: new Date(now + 7 * 86_400_000).toISOString(),
    },
    admin,
  );
  return { eventId: event.eventId, couponId: coupon.couponId, stock: setup.stock };
}

export interface AuditInput {
  prisma: PrismaClient;
  sale: FlashSale;
  /** The users whose request was answered 201, once per answer. */
  issuedUsers: readonly string[];
  /**
   * Users whose request got no answer (it timed out, or the run ended while it was in flight): the
   * service may have issued them a coupon, so a row for one of them is no violation.
   */
  unansweredUsers?: readonly string[];
  /** How long to wait for the consumer to store a row for every 201. */
  drainTimeoutMs: number;
  /** When known, how many 201s there must be (every user asked: the stock, or everyone if fewer). */
  expectedIssued?: number;
}

export interface Audit {
  issued: number;
  expectedIssued: number | undefined;
  rows: number;
  /** From the audit's start (right after the last answer) until the rows matched the 201s, or the timeout. */
  drainMs: number;
  overIssued: number;
  duplicates: number;
  /** 201s without a row. */
  lost: number;
  /** Rows of users whose request got no answer. */
  unanswered: number;
  /** Rows without a 201 or an unanswered request. */
  unexplained: number;
  ok: boolean;
}

/**
 * Waits until the consumer has stored a row for every 201, then checks the invariants against the
 * database: issued ≤ stock, nobody twice, every 201 is a row, and every row is a 201 (or a request
 * whose answer never came).
 */
export async function auditIssuance(input: AuditInput): Promise<Audit> {
  const { prisma, sale, issuedUsers } = input;
  const couponId = BigInt(sale.couponId);
  const issuedSet = new Set(issuedUsers);
  const unansweredSet = new Set(input.unansweredUsers ?? []);
  const drainStarted = performance.now();
  const drainDeadline = drainStarted + input.drainTimeoutMs;
  const stored = async () =>
    (await prisma.couponIssue.findMany({ where: { couponId }, select: { userId: true } })).map((r) =>
      String(r.userId),
    );
  // Counting is cheap; the rows themselves are read once there are enough of them, and again while
  // a 201 still has none (rows of unanswered requests can make up the count before the last 201s).
  let rowUsers: string[] = [];
  for (;;) {
    const count = await prisma.couponIssue.count({ where: { couponId } });
    if (count >= issuedSet.size) {
      rowUsers = await stored();
      const rows = new Set(rowUsers);
      if (issuedUsers.every((u) => rows.has(u))) break;
    }
    if (performance.now() >= drainDeadline) {
      rowUsers = await stored();
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainMs = performance.now() - drainStarted;
  const rowSet = new Set(rowUsers);
  const duplicates = rowUsers.length - rowSet.size + (issuedUsers.length - issuedSet.size);
  const lost = issuedUsers.filter((u) => !rowSet.has(u)).length;
  const unanswered = rowUsers.filter((u) => !issuedSet.has(u) && unansweredSet.has(u)).length;
  const unexplained = rowUsers.filter((u) => !issuedSet.has(u) && !unansweredSet.has(u)).length;
  const overIssued = Math.max(0, issuedSet.size - sale.stock, rowSet.size - sale.stock);
  const ok =
    (input.expectedIssued === undefined || issuedUsers.length === input.expectedIssued) &&
    overIssued === 0 &&
    duplicates === 0 &&
    lost === 0 &&
    unexplained === 0 &&
    rowUsers.length === issuedUsers.length + unanswered;
  return {
    issued: issuedUsers.length,
    expectedIssued: input.expectedIssued,
    rows: rowUsers.length,
    drainMs,
    overIssued,
    duplicates,
    lost,
    unanswered,
    unexplained,
    ok,
  };
}
