/**
 * How much the server reads for its clients in one event-loop turn. Reads
 * start from request handlers, and every connection whose request arrived
 * together is handled in the same turn: a thousand SSE readers connecting at
 * once each read up to 1 MiB there, and the event loop did not turn for 1.8 s
 * (measured under bench:http-load's hostile phase). A read asks for a place in
 * the current turn first; when the turn has had its bytes, it waits for a later
 * one, in arrival order.
 *
 * A turn here is a phase: reads run in a loop iteration's I/O phase (requests
 * that arrived) and in its check phase (waiting reads let go), so one
 * iteration reads at most 2 x bytesPerTurn, plus the read that crossed it.
 */
export class ReadTurns {
  private usedThisTurn = 0;
  private readonly waiting: (() => void)[] = [];
  private turnEnding = false;

  constructor(readonly bytesPerTurn: number) {}

  /**
   * Undefined when a read may run now; else a promise that resolves in the
   * turn it may. The reader reports what it read with `spent` right after.
   */
  admit(): Promise<void> | undefined {
    this.endTurnSoon();
    if (this.waiting.length === 0 && this.usedThisTurn < this.bytesPerTurn) return undefined;
    return new Promise<void>((go) => this.waiting.push(go));
  }

  /** A read admitted this turn took `bytes`; while the turn has bytes left, the next waiting read goes. */
  spent(bytes: number): void {
    this.usedThisTurn += bytes;
    if (this.usedThisTurn < this.bytesPerTurn) this.waiting.shift()?.();
  }

  /** After this turn's I/O callbacks (setImmediate), a new turn's budget; scheduled from there, the next one runs a loop iteration later. */
  private endTurnSoon(): void {
    if (this.turnEnding) return;
    this.turnEnding = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.turnEnding = false;
    this.usedThisTurn = 0;
    // One goes; each `spent` lets the next go while the turn has bytes left.
    // A read that never reports (it failed) leaves the rest to the next turn.
    this.waiting.shift()?.();
    if (this.waiting.length > 0) this.endTurnSoon();
  };
}
