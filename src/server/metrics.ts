// A node's counters and the Prometheus text exposition format (version 0.0.4) for GET /metrics.

/** A cumulative histogram with fixed upper bounds, as Prometheus expects. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) throw new Error('histogram bounds must increase');
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
  }

  get observations(): number {
    return this.count;
  }

  /** Lines `name_bucket{le=...}`, `name_sum`, `name_count`. */
  render(name: string): string[] {
    const lines: string[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i]!;
      lines.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${name}_sum ${this.sum}`);
    lines.push(`${name}_count ${this.count}`);
    return lines;
  }
}

/** fsync durations, in seconds: 0.1 ms to 2 s. */
export const FSYNC_SECONDS_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Builds an exposition: each family once, with HELP and TYPE. */
export class MetricsText {
  private readonly lines: string[] = [];

  family(name: string, type: MetricType, help: string, samples: readonly (readonly [labels: Record<string, string | number>, value: number])[] | number): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    if (typeof samples === 'number') {
      this.lines.push(`${name} ${formatValue(samples)}`);
      return this;
    }
    for (const [labels, value] of samples) this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  histogram(name: string, help: string, histogram: Histogram): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`, ...histogram.render(name));
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

function formatLabels(labels: Record<string, string | number>): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
