// Runs inside the child process of a packaged-function sandbox (packaged-function.ts): imports the bundled
// handler the way Lambda's Node runtime does (module + export name from `handler`, relative to the unzipped
// package), then answers invocations sent over IPC. Plain JavaScript: it runs the bundle, not our sources.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [taskRoot, handlerSpec] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
const modulePath = handlerSpec.slice(0, dot);
const exportName = handlerSpec.slice(dot + 1);

const serialiseError = (err) => ({
  errorType: err?.name ?? 'Error',
  errorMessage: err?.message ?? String(err),
  stack: typeof err?.stack === 'string' ? err.stack.split('\n') : [],
});

let handlerPromise;
const loadHandler = () => {
  // Lambda resolves `.mjs` before `.js`; serverless-esbuild writes `.mjs` for ESM bundles.
  handlerPromise ??= import(pathToFileURL(join(taskRoot, `${modulePath}.mjs`)).href).then((mod) => {
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw new Error(`${handlerSpec}: no exported function '${exportName}'`);
    return fn;
  });
  return handlerPromise;
};

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { id, event, deadlineMs, functionName, memoryLimitInMB, requestId } = message;
  const context = {
    awsRequestId: requestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryLimitInMB),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const handler = await loadHandler();
    const result = await handler(event, context);
    process.send({ type: 'result', id, result: result ?? null });
  } catch (err) {
    process.send({ type: 'error', id, error: serialiseError(err) });
  }
});

process.send({ type: 'ready', node: process.version });
