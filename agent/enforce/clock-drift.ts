// Suspend/resume and wall-clock jumps, detected by comparing the wall clock with the monotonic clock (which does not
// count a suspend and is never set): when they drift apart, every grant must be re-checked at once.
export class ClockDrift {
  private wallBase: number;
  private monoBase: number;
  constructor(
    private readonly wall: () => number,
    private readonly mono: () => number,
    private readonly thresholdMs = 1_500,
  ) {
    this.wallBase = wall();
    this.monoBase = mono();
  }

  /** The jump in ms since the last look (re-based when it is one), or 0 when the clocks still agree. */
  check(): number {
    const wall = this.wall();
    const mono = this.mono();
    const drift = wall - (this.wallBase + (mono - this.monoBase));
    if (Math.abs(drift) <= this.thresholdMs) return 0;
    this.wallBase = wall;
    this.monoBase = mono;
    return drift;
  }
}
