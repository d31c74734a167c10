// Loading the NAB corpus and detector results from disk. The corpus is read in place (never copied into the
// repo); its location is KUBEPULSE_NAB_DIR, by default the shared checkout beside the repo.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CostMatrix, RowWindow, ScoredSeries } from './scorer.js';

/** One data file: `name` is NAB's key, `<category>/<file>.csv`. */
export interface NabFile {
  readonly name: string;
  readonly timestamps: readonly string[];
  readonly values: Float64Array;
  readonly windows: readonly RowWindow[];
}

export interface NabCorpus {
  readonly dir: string;
  readonly files: readonly NabFile[];
  readonly profiles: Readonly<Record<string, CostMatrix>>;
  /** All labelled windows; the normaliser's perfect and null scores are multiples of it. */
  readonly windowCount: number;
}

export function nabDir(): string {
  return (
    process.env.KUBEPULSE_NAB_DIR ||
    fileURLToPath(new URL('../../../../shared/benchmarks/nab', import.meta.url))
  );
}

/** The archive with the published detectors' per-row scores, in NAB's results layout. */
export function referenceArchive(dir: string = nabDir()): string {
  return join(dir, 'reference', 'reference-scores.tar.gz');
}

/** Unpacks a .tar.gz with the system tar, which is everywhere the tests run. */
export function extractArchive(archive: string, destination: string): void {
  mkdirSync(destination, { recursive: true });
  execFileSync('tar', ['xzf', archive, '-C', destination], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Labels write `2014-04-10 07:15:00.000000` where the data writes `2014-04-10 07:15:00`; NAB compares them
 * as parsed datetimes, so a zero fraction is dropped before comparing strings.
 */
export function canonicalTimestamp(text: string): string {
  return text.trim().replace(/\.0+$/, '');
}

interface Csv {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

function readCsv(path: string): Csv {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.length > 0);
  const [head, ...body] = lines;
  if (head === undefined) throw new Error(`${path}: empty file`);
  // NAB's files are plain comma-separated numbers and timestamps, never quoted.
  return { header: head.split(',').map((h) => h.trim()), rows: body.map((line) => line.split(',')) };
}

function column(csv: Csv, name: string, path: string): number {
  const index = csv.header.indexOf(name);
  if (index < 0) throw new Error(`${path}: no '${name}' column in ${csv.header.join(',')}`);
  return index;
}

function numbers(csv: Csv, index: number, path: string): Float64Array {
  return Float64Array.from(csv.rows, (row, i) => {
    const value = Number(row[index]);
    if (row[index] === undefined || row[index]!.trim() === '' || Number.isNaN(value)) {
      throw new Error(`${path}: row ${i + 1} has no number in column ${index}`);
    }
    return value;
  });
}

/**
 * Maps `[start, end]` timestamps to row indices the way NAB's sweeper does: the first row carrying each
 * timestamp (some files repeat a timestamp, none at a window edge).
 */
function windowRows(
  name: string,
  timestamps: readonly string[],
  limits: readonly [string, string][],
): RowWindow[] {
  const firstRow = new Map<string, number>();
  timestamps.forEach((t, i) => {
    if (!firstRow.has(t)) firstRow.set(t, i);
  });
  const find = (t: string): number => {
    const row = firstRow.get(canonicalTimestamp(t));
    if (row === undefined) throw new Error(`${name}: window edge ${t} is not a timestamp of the file`);
    return row;
  };
  return limits.map(([start, end]) => ({ first: find(start), last: find(end) }));
}

function loadProfiles(path: string): Record<string, CostMatrix> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { CostMatrix: CostMatrix }>;
  const profiles: Record<string, CostMatrix> = {};
  for (const [name, { CostMatrix: m }] of Object.entries(raw)) {
    profiles[name] = { tpWeight: m.tpWeight, fpWeight: m.fpWeight, fnWeight: m.fnWeight };
  }
  return profiles;
}

/** Every file that has an entry in the window labels, which is the set NAB scores. */
export function loadCorpus(dir: string = nabDir()): NabCorpus {
  const labels = JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const files = Object.keys(labels)
    .sort()
    .map((name): NabFile => {
      const path = join(dir, 'data', name);
      const csv = readCsv(path);
      const ts = column(csv, 'timestamp', path);
      const timestamps = csv.rows.map((row) => canonicalTimestamp(row[ts] ?? ''));
      const values = numbers(csv, column(csv, 'value', path), path);
      return { name, timestamps, values, windows: windowRows(name, timestamps, labels[name] ?? []) };
    });
  return {
    dir,
    files,
    profiles: loadProfiles(join(dir, 'config', 'profiles.json')),
    windowCount: files.reduce((n, f) => n + f.windows.length, 0),
  };
}

/** NAB's results layout: `<results>/<detector>/<category>/<detector>_<file>.csv`. */
export function resultsPath(resultsDir: string, detector: string, fileName: string): string {
  const slash = fileName.indexOf('/');
  const category = fileName.slice(0, slash);
  const file = fileName.slice(slash + 1);
  return join(resultsDir, detector, category, `${detector}_${file}`);
}

/**
 * One detector's `anomaly_score` column for every corpus file, paired with the file's windows. NAB pairs
 * result rows with data rows by position, so the timestamps must agree row for row.
 */
export function loadResults(resultsDir: string, detector: string, corpus: NabCorpus): ScoredSeries[] {
  return corpus.files.map((file) => {
    const path = resultsPath(resultsDir, detector, file.name);
    if (!existsSync(path)) throw new Error(`no results for ${file.name}: ${path}`);
    const csv = readCsv(path);
    if (csv.rows.length !== file.timestamps.length) {
      throw new Error(`${path}: ${csv.rows.length} rows, the data file has ${file.timestamps.length}`);
    }
    const ts = column(csv, 'timestamp', path);
    csv.rows.forEach((row, i) => {
      if (canonicalTimestamp(row[ts] ?? '') !== file.timestamps[i]) {
        throw new Error(`${path}: row ${i + 1} is ${row[ts]}, the data file has ${file.timestamps[i]}`);
      }
    });
    return {
      name: file.name,
      scores: numbers(csv, column(csv, 'anomaly_score', path), path),
      windows: file.windows,
    };
  });
}
