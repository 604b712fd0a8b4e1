/**
 * The loss curve as an SVG image written beside the model. A dozen lines of SVG need no plotting
 * library (the Node ones pull in a canvas or a browser).
 */
export function lossCurveSvg(
  train: readonly number[],
  validation: readonly (number | null)[],
  title: string,
): string {
  const w = 640;
  const h = 360;
  const pad = 48;
  const all = [...train, ...validation.filter((v): v is number => v !== null)].filter(Number.isFinite);
  const max = Math.max(...all, 1e-6);
  const min = Math.min(...all, 0);
  const n = Math.max(train.length, 2);
  const x = (i: number): number => pad + ((w - 2 * pad) * i) / (n - 1);
  const y = (v: number): number => h - pad - ((h - 2 * pad) * (v - min)) / (max - min || 1);
  const path = (vals: readonly (number | null)[]): string =>
    vals
      .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p): p is string => p !== null)
      .join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => min + f * (max - min));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="black"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="black"/>
${ticks.map((t) => `<text x="${pad - 6}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`).join('\n')}
<text x="${w / 2}" y="${h - 12}" text-anchor="middle">epoch (1–${train.length})</text>
<text x="${pad}" y="${pad - 10}">cross-entropy (nats/token)</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${path(train)}"/>
<polyline fill="none" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="6 3" points="${path(validation)}"/>
<text x="${w - pad}" y="${pad}" text-anchor="end" fill="#1f77b4">training loss</text>
<text x="${w - pad}" y="${pad + 16}" text-anchor="end" fill="#ff7f0e">validation loss</text>
</svg>
`;
}
