// Builds kubepulse's Grafana dashboard (infra/grafana/kubepulse-dashboard.json) from a compact description, so
// panels stay consistent and a test can check every query against the metrics the code really exports.
//
//   node --import tsx infra/grafana/dashboard.ts > infra/grafana/kubepulse-dashboard.json
//
// Data sources: one Prometheus. It scrapes the in-cluster shipper (which also serves the prediction relay's
// gauges; scrape it with honor_labels) and executor, receives the Lambda functions' metrics through a
// Pushgateway (PUSHGATEWAY_URL), and reads SQS queue depths through YACE (yet-another-cloudwatch-exporter), whose
// metric names (aws_sqs_*) the local stack's queue exporter reproduces (depths only).

interface Target {
  expr: string;
  legend?: string;
  instant?: boolean;
}

interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'stat' | 'table' | 'bargauge';
  targets: Target[];
  unit?: string;
  width?: number;
  height?: number;
  /** Thresholds for stat/bargauge colouring: [value, colour] after the base green. */
  thresholds?: Array<[number, string]>;
  stacked?: boolean;
}

interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

const RATE = '$__rate_interval';
const ns = 'namespace=~"$namespace"';

export const rows: RowSpec[] = [
  {
    title: 'Where usage is heading',
    panels: [
      {
        title: 'Memory: usage and forecast peak (of the limit)',
        description:
          'Solid: working set over the limit when last scored. Dashed: the highest forecast within the horizon. A dashed line above 1 is a predicted OOM kill.',
        type: 'timeseries',
        unit: 'percentunit',
        width: 12,
        targets: [
          {
            expr: `max by (namespace, pod) (kubepulse_usage_ratio{signal="memory",basis="limit",${ns}})`,
            legend: '{{namespace}}/{{pod}} now',
          },
          {
            expr: `max by (namespace, pod) (kubepulse_predicted_memory_ratio{basis="limit",${ns}})`,
            legend: '{{namespace}}/{{pod}} forecast peak',
          },
        ],
      },
      {
        title: 'CPU: usage and forecast peak (of the limit)',
        description: 'As for memory; a forecast above 1 means throttling ahead.',
        type: 'timeseries',
        unit: 'percentunit',
        width: 12,
        targets: [
          {
            expr: `max by (namespace, pod) (kubepulse_usage_ratio{signal="cpu",basis="limit",${ns}})`,
            legend: '{{namespace}}/{{pod}} now',
          },
          {
            expr: `max by (namespace, pod) (kubepulse_predicted_cpu_ratio{basis="limit",${ns}})`,
            legend: '{{namespace}}/{{pod}} forecast peak',
          },
        ],
      },
      {
        title: 'Predicted time to limit',
        description: 'Containers forecast to reach their limit within the horizon, soonest first.',
        type: 'bargauge',
        unit: 's',
        width: 12,
        thresholds: [
          [600, 'orange'],
          [1800, 'green'],
        ],
        targets: [
          {
            expr: `sort(min by (namespace, pod, container, signal) (kubepulse_predicted_seconds_to_limit{${ns}}))`,
            legend: '{{namespace}}/{{pod}}/{{container}} {{signal}}',
            instant: true,
          },
        ],
      },
      {
        title: 'Open incidents',
        description: 'Series with an open incident (inference hysteresis), by namespace.',
        type: 'timeseries',
        width: 6,
        stacked: true,
        targets: [{ expr: `sum by (namespace) (kubepulse_anomaly{${ns}})`, legend: '{{namespace}}' }],
      },
      {
        title: 'Anomaly score (max per namespace)',
        description: "The classifier's probability that the window is anomalous.",
        type: 'timeseries',
        unit: 'percentunit',
        width: 6,
        targets: [{ expr: `max by (namespace) (kubepulse_anomaly_score{${ns}})`, legend: '{{namespace}}' }],
      },
      {
        title: 'Most surprising series',
        description:
          "How unusual each series' newest value is against its own history (a deploy's level shift, a spike). Informational: surprise never opens an incident.",
        type: 'timeseries',
        unit: 'percentunit',
        width: 12,
        targets: [
          {
            expr: `topk(5, max by (namespace, pod, container, signal) (kubepulse_surprise{${ns}}))`,
            legend: '{{namespace}}/{{pod}}/{{container}} {{signal}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Incidents, plans and actions',
    panels: [
      {
        title: 'Incidents planned, by result and source',
        description:
          'planned: signed and sent; pending-approval: waiting for `kubepulse approve`; escalated: a human. Episode "again": incidents that came back after their plan concluded (or their watch or approval request ran out) and were planned anew.',
        type: 'timeseries',
        width: 8,
        stacked: true,
        targets: [
          {
            expr: `sum by (result, source, episode) (increase(kubepulse_planner_incidents_total[${RATE}]))`,
            legend: '{{result}} ({{source}}, {{episode}})',
          },
        ],
      },
      {
        title: 'Plans executed, by outcome',
        description: 'verified, rolled-back, refused (signature, expiry or local policy), failed.',
        type: 'timeseries',
        width: 8,
        stacked: true,
        targets: [
          {
            expr: `sum by (outcome) (increase(kubepulse_executor_plans_total[${RATE}]))`,
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Actions applied, by kind and status',
        description: 'Each step of each plan as the executor applied (or refused) it.',
        type: 'table',
        width: 8,
        targets: [
          {
            expr: 'sum by (action, status) (kubepulse_executor_steps_total)',
            legend: '{{action}} {{status}}',
            instant: true,
          },
        ],
      },
      {
        title: 'Security refusals at the executor',
        description:
          'Forged, tampered or expired plans, and actions its own policy refused. Should stay at 0.',
        type: 'stat',
        width: 6,
        thresholds: [[1, 'red']],
        targets: [{ expr: 'sum(increase(kubepulse_executor_security_refusals_total[24h]))' }],
      },
      {
        title: 'Time to apply and verify a plan (p50 / p95)',
        description: 'From picking up a plan to its verified (or rolled-back) end.',
        type: 'timeseries',
        unit: 's',
        width: 9,
        targets: [
          {
            expr: `histogram_quantile(0.5, sum by (le) (rate(kubepulse_executor_plan_seconds_bucket[${RATE}])))`,
            legend: 'p50',
          },
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(kubepulse_executor_plan_seconds_bucket[${RATE}])))`,
            legend: 'p95',
          },
        ],
      },
      {
        title: 'Alerts delivered, by destination and outcome',
        description:
          'Slack, PagerDuty and the webhook; rejected deliveries are in the alerts DLQ with a reason.',
        type: 'timeseries',
        width: 9,
        stacked: true,
        targets: [
          {
            expr: `sum by (destination, outcome) (increase(kubepulse_notifier_deliveries_total[${RATE}]))`,
            legend: '{{destination}} {{outcome}}',
          },
        ],
      },
    ],
  },
  {
    title: 'LLM calls and cost',
    panels: [
      {
        title: 'LLM calls, by outcome',
        description:
          'At most one call per incident; cached, budget-refused and circuit-open calls cost nothing.',
        type: 'timeseries',
        width: 8,
        stacked: true,
        targets: [
          {
            expr: `sum by (outcome) (increase(kubepulse_planner_llm_calls_total[${RATE}]))`,
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Tokens and cost (last 24 h)',
        description:
          'Tokens counted from the provider’s usage metadata; cost = tokens × $usd_per_million_tokens.',
        type: 'stat',
        unit: 'currencyUSD',
        width: 8,
        targets: [
          {
            expr: 'sum(increase(kubepulse_planner_llm_tokens_total[24h])) * $usd_per_million_tokens / 1e6',
            legend: 'USD',
          },
        ],
      },
      {
        title: 'LLM latency (p95) and budget left',
        description: 'Latency of answered calls; remaining hourly/daily budget of calls and tokens.',
        type: 'timeseries',
        width: 8,
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(kubepulse_planner_llm_latency_seconds_bucket[${RATE}])))`,
            legend: 'p95 latency (s)',
          },
          {
            expr: 'min by (window, kind) (kubepulse_planner_llm_budget_remaining)',
            legend: '{{window}} {{kind}} left',
          },
        ],
      },
    ],
  },
  {
    title: 'Pipeline health',
    panels: [
      {
        title: 'Samples read (shipper) and scored (inference)',
        description: 'Per second. A gap between the two is samples waiting in the queue or being retried.',
        type: 'timeseries',
        width: 8,
        targets: [
          { expr: `sum(rate(kubepulse_shipper_samples_read_total[${RATE}]))`, legend: 'read by shipper' },
          {
            expr: `sum(rate(kubepulse_inference_samples_total{outcome="received"}[${RATE}]))`,
            legend: 'received by inference',
          },
          { expr: `sum(rate(kubepulse_inference_windows_scored_total[${RATE}]))`, legend: 'windows scored' },
        ],
      },
      {
        title: 'Queue depth and age of oldest message',
        description:
          'From CloudWatch through YACE (locally: the stack’s queue exporter, depth only). The age of the oldest message is the pipeline lag (CloudWatch only).',
        type: 'timeseries',
        width: 8,
        targets: [
          {
            expr: 'max by (dimension_QueueName) (aws_sqs_approximate_number_of_messages_visible_maximum{dimension_QueueName!~".*-dlq.*"})',
            legend: '{{dimension_QueueName}} visible',
          },
          {
            expr: 'max by (dimension_QueueName) (aws_sqs_approximate_age_of_oldest_message_maximum{dimension_QueueName!~".*-dlq.*"})',
            legend: '{{dimension_QueueName}} oldest (s)',
          },
        ],
      },
      {
        title: 'Dead-letter queues',
        description:
          'Messages parked with their reason; anything above 0 needs a look (`kubepulse-error-reason`).',
        type: 'stat',
        width: 8,
        thresholds: [[1, 'red']],
        targets: [
          {
            expr: 'sum by (dimension_QueueName) (aws_sqs_approximate_number_of_messages_visible_maximum{dimension_QueueName=~".*-dlq.*"})',
            legend: '{{dimension_QueueName}}',
          },
        ],
      },
      {
        title: 'Records retried or quarantined, per function',
        description:
          'retried: a dependency was down (SQS redelivers); quarantined: malformed, moved to the DLQ.',
        type: 'timeseries',
        width: 8,
        stacked: true,
        targets: [
          {
            expr: `sum by (outcome) (increase(kubepulse_inference_records_total{outcome!="ok"}[${RATE}]))`,
            legend: 'inference {{outcome}}',
          },
          {
            expr: `sum by (outcome) (increase(kubepulse_planner_records_total{outcome!="ok"}[${RATE}]))`,
            legend: 'planner {{outcome}}',
          },
          {
            expr: `sum by (outcome) (increase(kubepulse_notifier_records_total{outcome!="ok"}[${RATE}]))`,
            legend: 'notifier {{outcome}}',
          },
        ],
      },
      {
        title: 'Shipper: checkpoint lag, send failures, drops',
        description: 'Lag: how far reading is behind now. Drops are counted, never silent.',
        type: 'timeseries',
        width: 8,
        targets: [
          { expr: 'max(kubepulse_shipper_checkpoint_lag_seconds)', legend: 'checkpoint lag (s)' },
          { expr: `sum(increase(kubepulse_shipper_send_failures_total[${RATE}]))`, legend: 'send failures' },
          { expr: `sum(increase(kubepulse_shipper_dropped_messages_total[${RATE}]))`, legend: 'dropped' },
        ],
      },
      {
        title: 'Batch time per function (p95)',
        description: 'Time to handle one SQS batch.',
        type: 'timeseries',
        unit: 's',
        width: 8,
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(kubepulse_inference_batch_seconds_bucket[${RATE}])))`,
            legend: 'inference',
          },
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(kubepulse_planner_batch_seconds_bucket[${RATE}])))`,
            legend: 'planner',
          },
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(kubepulse_notifier_batch_seconds_bucket[${RATE}])))`,
            legend: 'notifier',
          },
        ],
      },
    ],
  },
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, resolved by Grafana
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function panelJson(panel: PanelSpec, id: number, x: number, y: number) {
  const colours = [{ color: 'green', value: null as number | null }];
  for (const [value, color] of panel.thresholds ?? []) colours.push({ color, value });
  return {
    id,
    type: panel.type,
    title: panel.title,
    description: panel.description,
    datasource: DATASOURCE,
    gridPos: { h: panel.height ?? 8, w: panel.width ?? 8, x, y },
    fieldConfig: {
      defaults: {
        ...(panel.unit ? { unit: panel.unit } : {}),
        thresholds: { mode: 'absolute', steps: colours },
        ...(panel.type === 'timeseries'
          ? {
              custom: {
                stacking: { mode: panel.stacked ? 'normal' : 'none' },
                fillOpacity: panel.stacked ? 30 : 0,
              },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      panel.type === 'timeseries'
        ? { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } }
        : panel.type === 'bargauge'
          ? { orientation: 'horizontal', displayMode: 'gradient' }
          : {},
    targets: panel.targets.map((target, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      expr: target.expr,
      ...(target.legend ? { legendFormat: target.legend } : {}),
      ...(target.instant ? { instant: true, range: false } : {}),
    })),
  };
}

export function buildDashboard() {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const width = panel.width ?? 8;
      if (x + width > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panelJson(panel, id++, x, y));
      x += width;
      rowHeight = Math.max(rowHeight, panel.height ?? 8);
    }
    y += rowHeight;
  }
  return {
    uid: 'kubepulse-overview',
    title: 'kubepulse',
    description: 'Predictions, incidents, remediations, LLM cost and the health of the kubepulse pipeline',
    tags: ['kubepulse', 'kubernetes', 'aiops'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' },
        {
          name: 'namespace',
          type: 'query',
          label: 'Namespace',
          datasource: DATASOURCE,
          query: 'label_values(kubepulse_usage_ratio, namespace)',
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
        },
        {
          // the model's blended price; set it to what the configured GEMINI_MODEL costs
          name: 'usd_per_million_tokens',
          type: 'textbox',
          label: 'USD per million tokens',
          query: '0.30',
          current: { text: '0.30', value: '0.30' },
        },
      ],
    },
    panels,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(buildDashboard(), null, 2)}\n`);
}
