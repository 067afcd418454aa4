// Line charts in plain SVG (no chart library: the console stays small). Each series has its
// own scale on the left or right axis; points are (ms, value).

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  /** The right-hand axis (a second unit). */
  right?: boolean;
  /** Drawn as steps (a value held until the next), e.g. a plan's share. */
  step?: boolean;
  unit: string;
}

const W = 720;
const H = 220;
const PAD = { l: 48, r: 48, t: 12, b: 26 };

function extent(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  return [Math.min(lo, 0), hi];
}

export function Chart({ series, label }: { series: Series[]; label: string }) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return <p className="unavailable">no readings in this span</p>;
  const times = all.map((p) => p[0]);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => PAD.l + ((t - t0) / span) * (W - PAD.l - PAD.r);
  const scales = [false, true].map((right) => extent(series.filter((s) => !!s.right === right).flatMap((s) => s.points.map((p) => p[1]))));
  const y = (v: number, right: boolean) => {
    const [lo, hi] = scales[right ? 1 : 0];
    return H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  };
  const path = (s: Series) =>
    s.points
      .map(([t, v], i) => {
        const px = x(t).toFixed(1);
        const py = y(v, !!s.right).toFixed(1);
        if (i === 0) return `M${px},${py}`;
        return s.step ? `H${px}V${py}` : `L${px},${py}`;
      })
      .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const hasRight = series.some((s) => s.right);
  const unitOf = (right: boolean) => series.find((s) => !!s.right === right)?.unit ?? "";
  const summary = series
    .map((s) => {
      const last = s.points.at(-1);
      return last ? `${s.name}: latest ${last[1].toFixed(1)} ${s.unit}` : `${s.name}: none`;
    })
    .join("; ");
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}. ${summary}`} preserveAspectRatio="none">
        {ticks.map((f) => {
          const [lo, hi] = scales[0];
          const v = lo + f * (hi - lo);
          const py = y(v, false);
          return (
            <g key={f}>
              <line x1={PAD.l} x2={W - PAD.r} y1={py} y2={py} className="grid" />
              <text x={PAD.l - 4} y={py + 4} textAnchor="end">
                {v.toFixed(v >= 100 ? 0 : 1)}
              </text>
              {hasRight ? (
                <text x={W - PAD.r + 4} y={py + 4}>
                  {(scales[1][0] + f * (scales[1][1] - scales[1][0])).toFixed(1)}
                </text>
              ) : null}
            </g>
          );
        })}
        {[0, 0.5, 1].map((f) => (
          <text key={f} x={x(t0 + f * span)} y={H - 6} textAnchor={f === 0 ? "start" : f === 1 ? "end" : "middle"}>
            {new Date(t0 + f * span).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
          </text>
        ))}
        {series.map((s) => (
          <path key={s.name} d={path(s)} fill="none" stroke={s.color} strokeWidth={2} vectorEffect="non-scaling-stroke" />
        ))}
      </svg>
      <figcaption>
        {series.map((s) => (
          <span key={s.name} className="legend">
            <i style={{ background: s.color }} /> {s.name} ({s.unit}
            {s.right && hasRight ? ", right" : ""})
          </span>
        ))}
        <span className="units">
          {unitOf(false)}
          {hasRight ? ` · ${unitOf(true)}` : ""}
        </span>
      </figcaption>
    </figure>
  );
}
