import { z } from 'zod';
import { ClusterId } from './contracts/index.js';
import { parseSigningKey, publicKeyEntryOf, type SigningKey } from './signing.js';

/**
 * The planner's plan-signing keys, one per cluster, so a cluster's executors (which hold only their own cluster's
 * public keys) trust nothing that signs for another. Read by the planner and the approver, which sign for the same
 * clusters with the same keys: `{"<cluster>":"<id>=<PKCS#8 PEM or base64 DER or base64 32-byte seed>",…}` with a
 * different key id and key each; or, with one cluster only, that one key as `id=<…>`.
 */
export interface ClusterSigningKeys {
  single?: SigningKey;
  byCluster: ReadonlyMap<string, SigningKey>;
}

export function parseClusterSigningKeys(text: string): ClusterSigningKeys {
  if (!text.trim().startsWith('{')) return { single: parseSigningKey(text), byCluster: new Map() };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = z.record(ClusterId, z.string().min(1)).safeParse(json);
  if (!parsed.success) {
    // Never echo the value: it is key material.
    throw new Error('must be {"<cluster id>":"<key id>=<key>",…} with a key per cluster');
  }
  const byCluster = new Map<string, SigningKey>();
  const ownerOfId = new Map<string, string>();
  const ownerOfMaterial = new Map<string, string>();
  for (const [cluster, entry] of Object.entries(parsed.data)) {
    const signer = parseSigningKey(entry);
    const other = ownerOfId.get(signer.keyId);
    if (other) throw new Error(`key id ${signer.keyId} is used for both ${other} and ${cluster}`);
    ownerOfId.set(signer.keyId, cluster);
    // The same key under two ids would let one cluster's executors accept the other's plans.
    const material = publicKeyEntryOf(signer).slice(signer.keyId.length);
    const sharer = ownerOfMaterial.get(material);
    if (sharer) throw new Error(`clusters ${sharer} and ${cluster} share one key; each needs its own`);
    ownerOfMaterial.set(material, cluster);
    byCluster.set(cluster, signer);
  }
  return { byCluster };
}

/** What is wrong with the keys for exactly these clusters, or undefined when each cluster has its own. */
export function clusterKeysProblem(
  keys: ClusterSigningKeys,
  clusters: readonly string[],
): string | undefined {
  if (keys.single) {
    return clusters.length === 1
      ? undefined
      : `one key for ${clusters.length} clusters: give {"<cluster>":"<id>=<key>",…}, a key per cluster`;
  }
  const missing = clusters.filter((c) => !keys.byCluster.has(c));
  const extra = [...keys.byCluster.keys()].filter((c) => !clusters.includes(c));
  if (missing.length === 0 && extra.length === 0) return undefined;
  return `must name exactly the clusters of CLUSTER_QUEUES (missing: ${missing.join(', ') || 'none'}; unknown: ${extra.join(', ') || 'none'})`;
}

/** The signer of each cluster. */
export function signersOf(
  keys: ClusterSigningKeys,
  clusters: readonly string[],
): ReadonlyMap<string, SigningKey> {
  const { single } = keys;
  return single ? new Map(clusters.map((c) => [c, single])) : keys.byCluster;
}
