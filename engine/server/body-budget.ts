/**
 * The bytes of request bodies the server holds at once, across all requests.
 * A per-request limit alone lets a hundred clients that each send 15 MiB and
 * stop one byte short hold 1.5 GB; with a budget, a body that would take the
 * total past it is refused (503, Retry-After) and its bytes are never kept.
 *
 * Each request holds a `BodyReservation`: bytes are reserved as they arrive
 * (or up front when Content-Length announces them) and given back when the
 * request is done, whatever its outcome.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  reservation(): BodyReservation {
    return new BodyReservation(this);
  }

  /** Takes `bytes` if the total stays within the limit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class BodyReservation {
  private held = 0;

  constructor(private readonly budget: BodyBudget) {}

  /** Reserves `bytes` more for this request; false when the budget cannot spare them. */
  grow(bytes: number): boolean {
    if (!this.budget.take(bytes)) return false;
    this.held += bytes;
    return true;
  }

  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }
}

/** The server holds as many body bytes as it may at once: try again shortly. */
export class ServerBusy extends Error {
  constructor(readonly limit: number) {
    super(`the server holds its limit of ${limit} bytes of request bodies; try again shortly`);
  }
}
