// The fault simulator as a process: `npx tsx local/scenarios/fault-sim/main.ts [--kubeconfig PATH] [--port 9464]
// [--speed 10] [--namespace demo]...`. Defaults: the local control plane's kubeconfig, port 9464, real time.
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureControlPlane } from '../../harness/support/control-plane.js';
import { FaultSimulator } from './simulator.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9464' },
    speed: { type: 'string', default: '1' },
    'tick-ms': { type: 'string', default: '1000' },
    namespace: { type: 'string', multiple: true },
  },
});

const number = (name: string, raw: string | undefined) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
};

let kubeConfig: KubeConfig;
if (values.kubeconfig) {
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(values.kubeconfig);
} else {
  ({ kubeConfig } = await ensureControlPlane());
}

const simulator = await FaultSimulator.start({
  kubeConfig,
  speed: number('speed', values.speed),
  tickMs: number('tick-ms', values['tick-ms']),
  ...(values.namespace?.length ? { namespaces: values.namespace } : {}),
  exporter: { host: values.host, port: number('port', values.port) },
  log: (message) => console.log(`[fault-sim] ${new Date().toISOString()} ${message}`),
});
console.log(`[fault-sim] serving ${simulator.exporter.url}/metrics (speed ${values.speed}x)`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
