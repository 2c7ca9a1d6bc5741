// Hand-written SVG line chart (log-log) for bench/compare.ts: throughput in
// MB/s versus message size, one line per contender. No dependencies.

export interface Series {
  name: string;
  /** [x, y] points; non-finite or non-positive values are skipped. */
  points: [number, number][];
}

const COLORS = [
  "#d62728", // tether first: red
  "#1f77b4",
  "#2ca02c",
  "#ff7f0e",
  "#7f7f7f",
  "#9467bd",
  "#8c564b",
];

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function renderChart(
  series: Series[],
  xTicks: number[],
  title: string,
  subtitle: string,
): string {
  const W = 860, H = 540;
  const m = { left: 80, right: 190, top: 64, bottom: 64 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
    .filter((y) => Number.isFinite(y) && y > 0);
  const yMin = Math.pow(10, Math.floor(Math.log10(Math.min(...ys, 1))));
  const yMax = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys, 10))));
  const xMin = Math.min(...xTicks), xMax = Math.max(...xTicks);
  const lx = (x: number) =>
    m.left + (Math.log(x / xMin) / Math.log(xMax / xMin)) * pw;
  const ly = (y: number) =>
    m.top + ph - (Math.log(y / yMin) / Math.log(yMax / yMin)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
      `viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.left + pw / 2}" y="26" text-anchor="middle" ` +
      `font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="${m.left + pw / 2}" y="46" text-anchor="middle" ` +
      `fill="#555">${esc(subtitle)}</text>`,
  );
  // grid + y ticks (decades, with 2x and 5x minor lines)
  for (let d = yMin; d <= yMax * 1.0001; d *= 10) {
    const y = ly(d);
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" ` +
        `stroke="#ccc"/>`,
      `<text x="${m.left - 8}" y="${y + 4}" text-anchor="end">` +
        `${d >= 1 ? d.toLocaleString("en-US") : d}</text>`,
    );
    for (const k of [2, 5]) {
      if (d * k < yMax) {
        const yy = ly(d * k);
        out.push(
          `<line x1="${m.left}" y1="${yy}" x2="${m.left + pw}" y2="${yy}" ` +
            `stroke="#eee"/>`,
        );
      }
    }
  }
  for (const x of xTicks) {
    const px = lx(x);
    out.push(
      `<line x1="${px}" y1="${m.top}" x2="${px}" y2="${m.top + ph}" ` +
        `stroke="#eee"/>`,
      `<text x="${px}" y="${m.top + ph + 18}" text-anchor="middle">` +
        `${esc(sizeLabel(x))}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" ` +
      `fill="none" stroke="#333"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 18}" text-anchor="middle">` +
      `message size (JSON bytes per message, log scale)</text>`,
    `<text transform="translate(22 ${m.top + ph / 2}) rotate(-90)" ` +
      `text-anchor="middle">throughput, MB/s (10⁶ B/s, log scale)</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter(([x, y]) =>
      Number.isFinite(y) && y > 0 && x > 0
    );
    const dash = s.name.startsWith("raw") ? ` stroke-dasharray="6 4"` : "";
    const width = i === 0 ? 3 : 2;
    if (pts.length > 1) {
      const d = pts.map(([x, y], j) =>
        `${j ? "L" : "M"}${lx(x).toFixed(1)},${ly(y).toFixed(1)}`
      ).join(" ");
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" ` +
          `stroke-width="${width}"${dash}/>`,
      );
    }
    for (const [x, y] of pts) {
      out.push(
        `<circle cx="${lx(x).toFixed(1)}" cy="${ly(y).toFixed(1)}" r="3.5" ` +
          `fill="${color}"/>`,
      );
    }
    const ly0 = m.top + 10 + i * 22;
    const lx0 = m.left + pw + 16;
    out.push(
      `<line x1="${lx0}" y1="${ly0}" x2="${lx0 + 28}" y2="${ly0}" ` +
        `stroke="${color}" stroke-width="${width}"${dash}/>`,
      `<circle cx="${lx0 + 14}" cy="${ly0}" r="3.5" fill="${color}"/>`,
      `<text x="${lx0 + 36}" y="${ly0 + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
