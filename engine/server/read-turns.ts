/**
 * How much the server reads for its clients in one event-loop turn. Reads
 * start from request handlers, and every connection whose request arrived
 * together is handled in the same turn: a thousand SSE readers connecting at
 * once each read up to 1 MiB there, and the event loop did not turn for 1.8 s
 * (measured under bench:http-load's hostile phase). A read asks for a place in
 * the current turn first; when the turn has had its bytes, it waits for a later
 * one, in arrival order within its lane.
 *
 * A turn here is a phase: reads run in a loop iteration's I/O phase (requests
 * that arrived) and in its check phase (waiting reads let go), so one
 * iteration reads at most 2 x bytesPerTurn, plus the read that crossed it.
 *
 * Two lanes: a request's answer (GET, long-poll) goes before the next read of
 * an event stream (SSE), so a crowd of SSE readers catching up does not make
 * every other reader wait behind it.
 */
export type ReadLane = "answer" | "stream";

export class ReadTurns {
  private usedThisTurn = 0;
  private readonly answers: (() => void)[] = [];
  private readonly streams: (() => void)[] = [];
  private turnEnding = false;

  constructor(readonly bytesPerTurn: number) {}

  /**
   * Undefined when a read may run now; else a promise that resolves in the
   * turn it may. The reader reports what it read with `spent` right after.
   */
  admit(lane: ReadLane = "answer"): Promise<void> | undefined {
    this.endTurnSoon();
    if (this.answers.length === 0 && this.streams.length === 0 && this.usedThisTurn < this.bytesPerTurn) return undefined;
    return new Promise<void>((go) => (lane === "answer" ? this.answers : this.streams).push(go));
  }

  /** A read admitted this turn took `bytes`; while the turn has bytes left, the next waiting read goes. */
  spent(bytes: number): void {
    this.usedThisTurn += bytes;
    if (this.usedThisTurn < this.bytesPerTurn) this.next()?.();
  }

  private next(): (() => void) | undefined {
    return this.answers.shift() ?? this.streams.shift();
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
    this.next()?.();
    if (this.answers.length > 0 || this.streams.length > 0) this.endTurnSoon();
  };
}
