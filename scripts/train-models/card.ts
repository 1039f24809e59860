/**
 * Writes a trained model's card, `README.md` beside its `model.json`: what it is, the data, the
 * exact command that trained it and its metric on held-out data, and `metrics.json` with the
 * same numbers (which `test/models.test.ts` checks against a fresh evaluation).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';

export interface Card {
  title: string;
  /** One paragraph: what the model does. */
  summary: string;
  /** Markdown bullet points: the data and its split. */
  data: string[];
  /** The model and its training, one bullet each. */
  training: string[];
  /** The command, run from the repository root, that retrains it. */
  command: string;
  /** Held-out metrics: name -> { value, what it means }. */
  metrics: Record<string, { value: number; about: string }>;
  /** How to use it, a short code block (TypeScript). */
  usage: string;
  /** The test that checks the metrics again (default `test/models.test.ts`). */
  checkedBy?: string;
}

export async function writeCard(dir: string, card: Card): Promise<void> {
  const metricRows = Object.entries(card.metrics).map(
    ([k, m]) => `| \`${k}\` | ${m.value.toPrecision(4)} | ${m.about} |`,
  );
  const text = [
    `# ${card.title}`,
    '',
    card.summary,
    '',
    '## Data',
    '',
    ...card.data.map((d) => `- ${d}`),
    '',
    '## Model and training',
    '',
    ...card.training.map((d) => `- ${d}`),
    '',
    'Retrain it (from the repository root; it overwrites this folder):',
    '',
    '```sh',
    card.command,
    '```',
    '',
    '## Metrics on held-out data',
    '',
    '| metric | value | |',
    '|--------|-------|-|',
    ...metricRows,
    '',
    `\`${card.checkedBy ?? 'test/models.test.ts'}\` loads the model and checks these numbers again.`,
    '',
    '## Use',
    '',
    '```ts',
    card.usage.trim(),
    '```',
    '',
  ].join('\n');
  await writeFormatted(join(dir, 'README.md'), text);
  const metrics = Object.fromEntries(Object.entries(card.metrics).map(([k, m]) => [k, m.value]));
  await writeFormatted(join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2));
}

/** Writes `text` to `path` formatted as the repository's prettier formats it, so that the lint check passes. */
export async function writeFormatted(path: string, text: string): Promise<void> {
  await writeFile(path, await format(text, { ...(await resolveConfig(path)), filepath: path }));
}
