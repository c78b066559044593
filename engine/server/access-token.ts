/**
 * Bearer-token access for a server that leaves loopback: every request but a
 * CORS preflight must carry `Authorization: Bearer <token>`. The comparison
 * hashes both sides first and compares the digests in constant time, so the
 * answer's timing says nothing about how much of a guess was right (and
 * tokens of different lengths compare like any others).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export class AccessToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  /** Whether an Authorization header value carries the token. */
  admits(authorization: string | undefined): boolean {
    const match = /^Bearer +(.+)$/i.exec(authorization?.trim() ?? "");
    // Compared even without a match, so a missing header costs the same as a wrong one.
    return timingSafeEqual(sha256(match?.[1] ?? ""), this.digest) && match !== null;
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Whether `host` (an address to listen on) is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1";
  return false;
}
