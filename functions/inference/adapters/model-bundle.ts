import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelContractError } from '../../shared/errors.js';
import { checkConsistency, type ModelBundle, parseModelMetadata } from '../core/model-metadata.js';

/**
 * Reads the model files and refuses anything that does not match what the scoring code was written for:
 * a corrupted or swapped file (hash), a different feature list, or shapes that disagree with the window.
 */
export async function loadModelBundle(modelDir: string): Promise<ModelBundle> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(modelDir, 'metadata.json'), 'utf8'));
  } catch (error) {
    throw new ModelContractError(
      `cannot read ${join(modelDir, 'metadata.json')}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const metadata = parseModelMetadata(raw);
  const [forecasterBytes, classifierBytes] = await Promise.all([
    readVerified(modelDir, metadata.forecaster.file, metadata.forecaster.sha256),
    readVerified(modelDir, metadata.classifier.file, metadata.classifier.sha256),
  ]);
  checkConsistency(metadata);
  return { metadata, forecasterBytes, classifierBytes };
}

async function readVerified(dir: string, file: string, sha256: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, file));
  } catch (error) {
    throw new ModelContractError(`cannot read model file ${join(dir, file)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new ModelContractError(`model file ${file} has sha256 ${actual}, metadata says ${sha256}`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
