// A log-log line chart as a standalone SVG string, with no dependency: decade grid lines, one polyline
// and markers per series, sd whiskers where given, and a legend.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function decades(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/** The 1-2-5 steps (1, 2, 5, 10, 20, ...) from the last one at or below `lo` to the first one at or above `hi`. */
function steps125(lo, hi) {
  const all = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) for (const k of [1, 2, 5]) all.push(+(k * 10 ** e).toPrecision(1));
  const first = all.findLastIndex((v) => v <= lo * (1 + 1e-9));
  const last = all.findIndex((v) => v >= hi * (1 - 1e-9));
  return all.slice(first, last + 1);
}

function label(v, unit) {
  if (unit === 's') {
    if (v >= 1) return `${+v.toPrecision(3)} s`;
    return `${+(v * 1000).toPrecision(3)} ms`;
  }
  return v >= 1000 ? `${(v / 1000).toLocaleString('en-US')}k` : String(v);
}

/**
 * series: [{ name, color, dash?, points: [{ x, y, sd? }] }]; x and y > 0. Returns the SVG text.
 */
export function logLogChart({ title, subtitle = '', xLabel, yLabel, series, marks = [], width = 760, height = 480 }) {
  const m = { left: 78, right: 40, top: 58, bottom: 58 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...series.flatMap((s) => s.points.flatMap((p) => [p.y, p.y + (p.sd ?? 0), Math.max(p.y - (p.sd ?? 0), p.y / 2)])), ...marks.map((k) => k.y)];
  const xTicks = decades(Math.min(...xs), Math.max(...xs));
  const yTicks = steps125(Math.min(...ys) * 0.8, Math.max(...ys));
  // A little room left and right, so that markers and their labels stay inside the frame.
  const [x0, x1] = [Math.log10(Math.min(...xs)) - 0.12, Math.log10(Math.max(...xs)) + 0.25];
  const [y0, y1] = [Math.log10(yTicks[0]), Math.log10(yTicks[yTicks.length - 1])];
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const X = (v) => m.left + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * plotW;
  const Y = (v) => m.top + plotH - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * plotH;
  const f = (n) => n.toFixed(1);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="600">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${m.left}" y="42" fill="#555">${esc(subtitle)}</text>`);
  // Grid: a labelled line at each 1-2-5 step, decades darker.
  for (const t of yTicks) {
    const decade = Number.isInteger(Math.log10(t) + 1e-12) || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    out.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(Y(t))}" y2="${f(Y(t))}" stroke="${decade ? '#ccc' : '#eee'}"/>`);
    out.push(`<text x="${m.left - 8}" y="${f(Y(t) + 4)}" text-anchor="end" fill="${decade ? '#333' : '#777'}">${esc(label(t, 's'))}</text>`);
  }
  for (const t of xTicks.filter((v) => Math.log10(v) >= x0 && Math.log10(v) <= x1)) {
    out.push(`<line x1="${f(X(t))}" x2="${f(X(t))}" y1="${m.top}" y2="${m.top + plotH}" stroke="#ddd"/>`);
    out.push(`<text x="${f(X(t))}" y="${m.top + plotH + 18}" text-anchor="middle" fill="#333">${esc(label(t, 'n'))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 16}" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(20 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(yLabel)}</text>`);
  // The legend, top left inside the frame (the lines rise to the right).
  // Wide enough for the longest name (about 7 px a character at this size).
  const legendW = Math.max(200, 44 + 7 * Math.max(...series.map((s) => s.name.length)));
  out.push(`<rect x="${m.left + 10}" y="${m.top + 10}" width="${legendW}" height="${series.length * 22 + 8}" fill="#fff" stroke="#ccc"/>`);
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(' ')}"/>`);
    for (const p of pts) {
      if (p.sd) {
        const lo = Math.max(p.y - p.sd, p.y / 2);
        out.push(`<line x1="${f(X(p.x))}" x2="${f(X(p.x))}" y1="${f(Y(lo))}" y2="${f(Y(p.y + p.sd))}" stroke="${s.color}"/>`);
      }
      out.push(`<circle cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="4" fill="${s.color}"><title>${esc(`${s.name}, N = ${p.x}: ${label(p.y, 's')}`)}</title></circle>`);
      if (s.labels) {
        // Below right of the point: the lines rise to the right, so that side is clear.
        out.push(`<text x="${f(X(p.x) + 8)}" y="${f(Y(p.y) + 15)}" fill="${s.color}" font-size="11">${esc(label(p.y, 's'))}</text>`);
      }
    }
    const ly = m.top + 25 + i * 22;
    const lx = m.left + 20;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<circle cx="${lx + 12}" cy="${ly}" r="4" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 32}" y="${ly + 4}" fill="#222">${esc(s.name)}</text>`);
  });
  // Marks: single points (a goal), as hollow diamonds with a label to their left.
  for (const k of marks) {
    const [cx, cy] = [X(k.x), Y(k.y)];
    out.push(`<path d="M${f(cx)} ${f(cy - 6)} L${f(cx + 6)} ${f(cy)} L${f(cx)} ${f(cy + 6)} L${f(cx - 6)} ${f(cy)} Z" fill="#fff" stroke="${k.color}" stroke-width="2"/>`);
    out.push(`<text x="${f(cx - 10)}" y="${f(cy + 4)}" text-anchor="end" fill="${k.color}" font-size="11">${esc(k.label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
