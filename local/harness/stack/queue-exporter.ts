// Queue depths of the SQS emulator as Prometheus metrics, under the names YACE (yet-another-cloudwatch-exporter)
// gives CloudWatch's SQS metrics in a real deployment, so the Grafana dashboard's queue panels work locally too.
// Not available locally: the age of the oldest message (CloudWatch computes it; SQS's API does not expose it).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Gauge, Registry } from 'prom-client';

export interface QueueExporter {
  port: number;
  close(): Promise<void>;
}

export async function startQueueExporter(
  sqs: SQSClient,
  queueUrls: readonly string[],
  options: { port?: number } = {},
): Promise<QueueExporter> {
  const registry = new Registry();
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['dimension_QueueName'], registers: [registry] });
  const visible = gauge(
    'aws_sqs_approximate_number_of_messages_visible_maximum',
    'Messages available (as YACE names it)',
  );
  const inFlight = gauge(
    'aws_sqs_approximate_number_of_messages_not_visible_maximum',
    'Messages in flight (as YACE names it)',
  );
  const refresh = async () => {
    await Promise.all(
      queueUrls.map(async (url) => {
        const name = url.split('/').at(-1)!;
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        visible.set({ dimension_QueueName: name }, Number(Attributes.ApproximateNumberOfMessages ?? 0));
        inFlight.set(
          { dimension_QueueName: name },
          Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        );
      }),
    );
  };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    refresh()
      .then(() => registry.metrics())
      .then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(503).end(String(error)),
      );
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        // Prometheus scrapes every second over keep-alive: its idle connection would hold close() forever.
        server.closeAllConnections();
      }),
  };
}
