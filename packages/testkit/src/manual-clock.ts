/** A clock tests move by hand (pass `clock.now` where a component takes a clock). */
export class ManualClock {
  nowMs: number

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs
  }

  readonly now = (): number => this.nowMs

  advance(ms: number): void {
    this.nowMs += ms
  }
}
