/** Plain-text tables for the terminal. */

/** Rows under a header, columns padded to their widest cell; numbers (and their headers) right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((row) => typeof row[j] === 'number'));
  const widths = header.map((h, j) => Math.max(h.length, ...cells.map((row) => row[j].length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Four significant digits; exponent notation below 1e-3 (`0.01234`, `1.234e-7`, `12.35`). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}
