/**
 * The HTML report of the command line: one self-contained page (no script, no CDN) with a results
 * table, the cells' equations (rendered from their LaTeX, the source alongside) and inline SVG
 * charts.
 */
import { formatNumber } from './table.js';

/** One section of charts, equations or both, after the results table. */
export interface ReportSection {
  title: string;
  /** A paragraph of plain text under the title. */
  text?: string;
  /** Named equations in LaTeX (as `cell.equations` gives them). */
  equations?: { name: string; latex: string }[];
  /** Standalone SVG markup (from `src/plot`). */
  svg?: string;
}

export interface Report {
  title: string;
  /** A paragraph of plain text under the title. */
  intro: string;
  table: { header: string[]; rows: (string | number)[][] };
  sections: ReportSection[];
  /** How the report was made: shown as `name: value` lines at the end. */
  settings: Record<string, string | number>;
}

/** The report as an HTML page. */
export function reportHtml(report: Report): string {
  const { header, rows } = report.table;
  const cell = (v: string | number, tag: string) =>
    `<${tag}${typeof v === 'number' ? ' class="num"' : ''}>${escapeHtml(typeof v === 'number' ? formatNumber(v) : v)}</${tag}>`;
  const table = [
    '<table>',
    `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`,
    ...rows.map((row) => `<tr>${row.map((v) => cell(v, 'td')).join('')}</tr>`),
    '</table>',
  ].join('\n');
  const sections = report.sections.map((s) =>
    [
      `<section><h2>${escapeHtml(s.title)}</h2>`,
      s.text ? `<p>${escapeHtml(s.text)}</p>` : '',
      ...(s.equations ?? []).map(
        (e) =>
          `<h3>${escapeHtml(e.name)}</h3>\n<div class="math">${latexToHtml(e.latex)}</div>\n` +
          `<details><summary>LaTeX</summary><pre>${escapeHtml(e.latex)}</pre></details>`,
      ),
      s.svg ? `<figure>${s.svg}</figure>` : '',
      '</section>',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  const settings = Object.entries(report.settings)
    .map(([k, v]) => `<li><b>${escapeHtml(k)}</b>: ${escapeHtml(String(v))}</li>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(report.title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 760px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.math { font-family: 'Cambria Math', 'STIX Two Math', 'Times New Roman', serif; font-size: 1.15em; line-height: 1.7; margin: 0.5em 0 0.5em 1.5em; }
pre { background: #f5f5f5; padding: 0.6em; overflow-x: auto; }
figure { margin: 1em 0; }
</style>
</head>
<body>
<h1>${escapeHtml(report.title)}</h1>
<p>${escapeHtml(report.intro)}</p>
${table}
${sections.join('\n')}
<section><h2>Settings</h2>
<ul>
${settings}
</ul>
</section>
</body>
</html>
`;
}

const SYMBOLS: Record<string, string> = {
  sigma: 'σ',
  odot: '⊙',
  tanh: 'tanh',
  cdot: '·',
  sum: 'Σ',
  partial: '∂',
  left: '',
  right: '',
};

/**
 * The LaTeX subset the cells' equations use, as HTML: `\begin{aligned}` rows become lines,
 * `_{…}`/`^{…}` sub- and superscripts, `\sigma`, `\odot`, `\tanh`, `\left(`/`\right)`. Anything
 * else is shown as written.
 */
export function latexToHtml(latex: string): string {
  const body = latex.replace(/\\(begin|end)\{aligned\}/g, '');
  return body
    .split('\\\\')
    .map((row) => row.replace(/&/g, '').trim())
    .filter((row) => row.length > 0)
    .map((row) =>
      escapeHtml(row)
        .replace(/\\([a-zA-Z]+)/g, (all, name: string) => (name in SYMBOLS ? SYMBOLS[name] : all))
        .replace(
          /([_^])\{([^{}]*)\}|([_^])([A-Za-z0-9])/g,
          (_, op: string, group: string, op1: string, one: string) => {
            const tag = (op ?? op1) === '_' ? 'sub' : 'sup';
            return `<${tag}>${(group ?? one).replace(/-/g, '−')}</${tag}>`;
          },
        )
        .replace(/ - /g, ' − '),
    )
    .join('<br>\n');
}

/** Escapes the characters that have a meaning in HTML text and attributes. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
