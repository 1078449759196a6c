// Named counters and gauges modules update; exported by the admin surfaces (CLI, HTTP later).
export class Metrics {
  readonly values = new Map<string, number>();
  counter(name: string): { inc(n?: number): void; set(v: number): void } {
    if (!this.values.has(name)) this.values.set(name, 0);
    return {
      inc: (n = 1) => this.values.set(name, (this.values.get(name) ?? 0) + n),
      set: (v: number) => this.values.set(name, v),
    };
  }
  snapshot(): Record<string, number> { return Object.fromEntries(this.values); }
}
