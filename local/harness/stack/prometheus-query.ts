// Small PromQL client for the demo's live view and report (the shipper has its own, behind a port).

export interface RangeSeries {
  labels: Record<string, string>;
  points: Array<{ t: number; v: number }>;
}

async function query(url: string, path: string, params: Record<string, string>): Promise<unknown[]> {
  const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as { status: string; data?: { result: unknown[] }; error?: string };
  if (body.status !== 'success') throw new Error(`prometheus: ${body.error ?? response.status}`);
  return body.data?.result ?? [];
}

/** Instant vector → one value per label set. */
export async function instant(
  url: string,
  expr: string,
): Promise<Array<{ labels: Record<string, string>; v: number }>> {
  const result = (await query(url, '/api/v1/query', { query: expr })) as Array<{
    metric: Record<string, string>;
    value: [number, string];
  }>;
  return result.map((r) => ({ labels: r.metric, v: Number(r.value[1]) }));
}

export async function range(
  url: string,
  expr: string,
  startSeconds: number,
  endSeconds: number,
  stepSeconds: number,
): Promise<RangeSeries[]> {
  const result = (await query(url, '/api/v1/query_range', {
    query: expr,
    start: String(startSeconds),
    end: String(endSeconds),
    step: String(stepSeconds),
  })) as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
  return result.map((r) => ({ labels: r.metric, points: r.values.map(([t, v]) => ({ t, v: Number(v) })) }));
}
