import type { Problems } from "@coupon/problems";
import type { Role } from "./claims.ts";
import { ACCESS_DENIED_CODE } from "./middleware.ts";
import { AUTH_ERROR_CODES, KEYS_UNAVAILABLE_CODE } from "./verifier.ts";

export interface BearerAuthOptions {
  /** The role requireRole() demands, if any. */
  role?: Role;
  /** The verifier fetches the keys (createRemoteJwks), so it can answer 503 while it cannot. */
  remoteKeys: boolean;
}

/** What authenticate() (and requireRole()) answer, for a route's OpenAPI description. */
export function bearerAuth({ role, remoteKeys }: BearerAuthOptions): { problems: Problems } {
  const problems: Problems = {
    401: {
      codes: AUTH_ERROR_CODES,
      headers: { "WWW-Authenticate": "Bearer, with the error (RFC 6750)" },
    },
    ...(role === undefined ? {} : { 403: { codes: [ACCESS_DENIED_CODE] } }),
    ...(remoteKeys
      ? {
          503: {
            codes: [KEYS_UNAVAILABLE_CODE],
            headers: { "Retry-After": "seconds to wait before retrying" },
          },
        }
      : {}),
  };
  return { problems };
}
