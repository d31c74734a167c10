import { execFile, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Half-Space Trees (river) as an online detector of the kind the field uses: one model per series, each sample
 * scored before it is learnt, on usage divided by the limit in force. The Python side lives in ../hst/.
 */
const HST_DIR = fileURLToPath(new URL('../hst/', import.meta.url));

export interface HstInput {
  id: string;
  /** Usage divided by the limit at each sample. */
  normalised: ArrayLike<number>;
}

/** Creates (or reuses) the pinned venv and returns its python. */
export async function hstPython(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [join(HST_DIR, 'setup.sh')], {
    maxBuffer: 1 << 20,
  });
  return stdout.trim();
}

export async function hstScores(
  python: string,
  inputs: readonly HstInput[],
  onSeriesDone: (done: number) => void = () => {},
): Promise<Map<string, Float64Array>> {
  const dir = mkdtempSync(join(tmpdir(), 'kubepulse-hst-'));
  try {
    const source = join(dir, 'series.jsonl');
    const destination = join(dir, 'scores.jsonl');
    writeFileSync(
      source,
      inputs
        .map((s) =>
          JSON.stringify({ id: s.id, values: Array.from(s.normalised, (v) => Math.round(v * 1e5) / 1e5) }),
        )
        .join('\n'),
    );
    await new Promise<void>((resolve, reject) => {
      const child = spawn(python, [join(HST_DIR, 'hst.py'), source, destination], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, PYTHONHASHSEED: '0' },
      });
      const ids = new Set(inputs.map((s) => s.id));
      let done = 0;
      let stderr = '';
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (ids.has(line)) onSeriesDone(++done);
        else stderr += `${line}\n`;
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`hst.py exited with ${code}: ${stderr.slice(-2000)}`)),
      );
    });
    const scores = new Map<string, Float64Array>();
    for await (const line of createInterface({ input: createReadStream(destination) })) {
      const parsed = JSON.parse(line) as { id: string; scores: number[] };
      scores.set(parsed.id, Float64Array.from(parsed.scores));
    }
    for (const s of inputs) if (!scores.has(s.id)) throw new Error(`hst.py gave no scores for ${s.id}`);
    return scores;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
