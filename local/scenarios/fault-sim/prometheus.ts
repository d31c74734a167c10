import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../harness/support/redis-server.js';

const execFileAsync = promisify(execFile);
const script = fileURLToPath(new URL('../../standins/services/prometheus.sh', import.meta.url));

/**
 * A private Prometheus (local/standins/services/prometheus.sh with its own cache dir and free port) scraping the given
 * targets every second. `stop` and `resume` keep the same port and TSDB, which is how a test simulates an outage.
 */
export class PrivatePrometheus {
  private constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly configPath: string,
    readonly url: string,
  ) {}

  static async start(targets: readonly string[], scrapeIntervalSeconds = 1): Promise<PrivatePrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'kubepulse-prometheus-'));
    const port = await freePort();
    const configPath = join(dir, 'prometheus.yml');
    writeFileSync(
      configPath,
      [
        'global:',
        `  scrape_interval: ${scrapeIntervalSeconds}s`,
        `  scrape_timeout: ${Math.round(scrapeIntervalSeconds * 900)}ms`,
        'scrape_configs:',
        '  - job_name: kubepulse-fault-sim',
        '    honor_labels: true',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, KUBEPULSE_CACHE: dir, KUBEPULSE_PROMETHEUS_PORT: String(port) };
    const prometheus = new PrivatePrometheus(dir, env, configPath, `http://127.0.0.1:${port}`);
    try {
      await prometheus.resume();
    } catch (error) {
      await prometheus.close();
      throw error;
    }
    return prometheus;
  }

  async resume(): Promise<void> {
    await execFileAsync('bash', [script, 'up', this.configPath], { env: this.env });
  }

  async stop(): Promise<void> {
    await execFileAsync('bash', [script, 'down'], { env: this.env });
  }

  async close(): Promise<void> {
    await this.stop().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Waits until every target has been scraped once. Prometheus hands discovered targets to its scrapers at most
   * every 5 s, so the first scrape comes up to ~5 s after start (and again after a restart).
   */
  async scraping(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const up = await this.query('up').catch(() => []);
      if (up.length > 0 && up.every((s) => s.value[1] === '1')) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`Prometheus at ${this.url} did not scrape its targets within ${timeoutMs} ms`);
  }

  /** Instant query, for tests that check what Prometheus itself holds. */
  async query(
    expression: string,
    at?: number,
  ): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const params = new URLSearchParams({
      query: expression,
      ...(at !== undefined ? { time: String(at) } : {}),
    });
    const response = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await response.json()) as {
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    return body.data.result;
  }

  /** Raw samples of a selector in (start, end]: what the TSDB holds, without lookback filling. */
  async rawSamples(
    selector: string,
    start: number,
    end: number,
  ): Promise<Array<{ metric: Record<string, string>; values: Array<[number, string]> }>> {
    const range = Math.max(1, Math.ceil(end - start));
    const params = new URLSearchParams({ query: `${selector}[${range}s]`, time: String(end) });
    const response = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await response.json()) as {
      data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    };
    return body.data.result;
  }
}
