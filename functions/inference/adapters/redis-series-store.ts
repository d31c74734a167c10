import type { ChainableCommander, Redis } from 'ioredis';
import { type PodInventory, PodInventory as PodInventorySchema } from '../../shared/contracts/index.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { LoadRequest, LoadResult, SeriesStorePort, StateCommit, StoredSeries } from '../core/ports.js';
import { type EventRef, type PodRef, podRefOf } from '../core/series-keys.js';

/**
 * Each series' sliding window lives in Redis as one string of fixed 12-byte records (uint32 LE unix seconds,
 * float64 LE value) sorted by time. A Lua script merges new samples in atomically: duplicate timestamps keep
 * the stored value, late samples are inserted in order, the window is trimmed to its maximum length and its
 * TTL refreshed, so a series that disappears also disappears from Redis. The window and the series' state
 * come back in the same reply, so a whole invocation reads everything in one pipelined round trip.
 */
export const RECORD_BYTES = 12;

const APPEND_WINDOW_LUA = `
local RECORD = ${RECORD_BYTES}
local ttl = tonumber(ARGV[1])
local maxBytes = tonumber(ARGV[2]) * RECORD
local incoming = ARGV[3]
local stored = redis.call('GET', KEYS[1]) or ''
local added = 0
local merged
local storedLast = -1
if #stored > 0 then storedLast = struct.unpack('<I4', stored, #stored - RECORD + 1) end
if struct.unpack('<I4', incoming, 1) > storedLast then
  merged = stored .. incoming
  added = #incoming / RECORD
else
  local parts = {}
  local i, j = 1, 1
  while i <= #stored or j <= #incoming do
    if j > #incoming then
      parts[#parts + 1] = string.sub(stored, i)
      break
    end
    if i > #stored then
      parts[#parts + 1] = string.sub(incoming, j)
      added = added + (#incoming - j + 1) / RECORD
      break
    end
    local ts = struct.unpack('<I4', stored, i)
    local ti = struct.unpack('<I4', incoming, j)
    if ts < ti then
      parts[#parts + 1] = string.sub(stored, i, i + RECORD - 1)
      i = i + RECORD
    elseif ts > ti then
      parts[#parts + 1] = string.sub(incoming, j, j + RECORD - 1)
      j = j + RECORD
      added = added + 1
    else
      parts[#parts + 1] = string.sub(stored, i, i + RECORD - 1)
      i = i + RECORD
      j = j + RECORD
    end
  end
  merged = table.concat(parts)
end
if #merged > maxBytes then merged = string.sub(merged, #merged - maxBytes + 1) end
redis.call('SET', KEYS[1], merged, 'EX', ttl)
-- Only what scoring needs goes back: every record newer than lastScoredAt, and one window's worth before them.
local lastScored = tonumber(redis.call('HGET', KEYS[2], 't') or '-1') or -1
local count = #merged / RECORD
local unscored = 0
while unscored < count and struct.unpack('<I4', merged, (count - unscored - 1) * RECORD + 1) > lastScored do
  unscored = unscored + 1
end
local first = math.max(0, count - unscored - tonumber(ARGV[4]) + 1)
return {added, string.sub(merged, first * RECORD + 1), redis.call('HGETALL', KEYS[2])}
`;

// Compare-and-set on the state's version: two invocations scoring the same series at once cannot both win.
const COMMIT_STATE_LUA = `
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', current + 1, unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;

export interface SeriesStoreOptions {
  /** The model's window: how many records before the first unscored one a load returns. */
  scoringWindow: number;
  windowCapacity: number;
  windowTtlSeconds: number;
  inventoryTtlSeconds: number;
  eventDedupTtlSeconds: number;
}

type ScriptedPipeline = ChainableCommander & {
  kpAppendWindowBuffer(
    windowKey: string,
    stateKey: string,
    ttl: number,
    capacity: number,
    packed: Buffer,
    scoringWindow: number,
  ): ScriptedPipeline;
  kpCommitState(
    stateKey: string,
    expectedVersion: number,
    ttl: number,
    ...fields: string[]
  ): ScriptedPipeline;
};

// The braces are a Redis Cluster hash tag: a series' window and state share a slot, as one script needs.
/** Where a series' packed window lives; every key of one series shares its hash tag (Redis Cluster). */
export const windowKey = (seriesKey: string) => `kp:{${seriesKey}}:w`;
/** Where a series' state (last scored time, incident, outbox) lives. */
export const stateKey = (seriesKey: string) => `kp:{${seriesKey}}:s`;
/** Where a pod's latest inventory lives. */
export const inventoryKey = (pod: PodRef) => `kp:inv:${pod}`;
/** Where a workload's container's lineage (core/lineage.ts) lives. */
export const lineageStoreKey = (lineage: string) => `kp:lin:${lineage}`;

/** Scripts per pipeline slice: few enough for Redis to start early, enough to keep batching. */
const SCRIPTS_PER_SLICE = 250;

/** Enough for every pod of a large cluster; past it the cache starts over rather than grow without bound. */
const MAX_CACHED_INVENTORIES = 20_000;

export class SeriesStore implements SeriesStorePort {
  private readonly eventKey = (event: EventRef) => `kp:evt:${event}`;
  /**
   * Parsed inventory by its stored JSON: a pod's inventory changes rarely and is read on every invocation, and
   * validating it again each time was a tenth of the load. Keyed by the exact text, so a change is never missed.
   */
  private readonly inventories = new Map<string, PodInventory | null>();

  constructor(
    private readonly redis: Redis,
    private readonly options: SeriesStoreOptions,
  ) {
    if (!('kpAppendWindow' in redis)) {
      redis.defineCommand('kpAppendWindow', { numberOfKeys: 2, lua: APPEND_WINDOW_LUA });
      redis.defineCommand('kpCommitState', { numberOfKeys: 1, lua: COMMIT_STATE_LUA });
    }
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const { windowTtlSeconds, windowCapacity, inventoryTtlSeconds } = this.options;
    const replies = await this.execInSlices(
      (pipeline) => {
        for (const { clusterId, pod } of request.inventoryWrites) {
          const key = inventoryKey(podRefOf(clusterId, pod.namespace, pod.pod));
          pipeline.set(key, JSON.stringify(pod), 'EX', inventoryTtlSeconds);
        }
      },
      request.appends,
      (pipeline, append) =>
        pipeline.kpAppendWindowBuffer(
          windowKey(append.seriesKey),
          stateKey(append.seriesKey),
          windowTtlSeconds,
          windowCapacity,
          packSamples(append.samples),
          this.options.scoringWindow,
        ),
      (pipeline) => {
        for (const pod of request.inventoryReads) pipeline.get(inventoryKey(pod));
        for (const event of request.eventsToCheck) pipeline.exists(this.eventKey(event));
      },
    );
    let cursor = request.inventoryWrites.length;
    const series = new Map<string, StoredSeries>();
    for (const append of request.appends) {
      const [added, packed, stateFlat] = replies[cursor++] as [number, Buffer, Buffer[]];
      const { timestamps, values } = unpackSamples(packed);
      const state: Record<string, string> = {};
      for (let i = 0; i + 1 < stateFlat.length; i += 2)
        state[stateFlat[i]!.toString()] = stateFlat[i + 1]!.toString();
      series.set(append.seriesKey, { added: Number(added), timestamps, values, state });
    }
    const inventory = new Map<PodRef, PodInventory | null>();
    for (const pod of request.inventoryReads) {
      inventory.set(pod, this.storedInventory(replies[cursor++] as string | null));
    }
    const seenEvents = new Set<EventRef>();
    for (const event of request.eventsToCheck) {
      if (Number(replies[cursor++]) === 1) seenEvents.add(event);
    }
    return { series, inventory, seenEvents };
  }

  /**
   * Queues `head`, then one command per item, then `tail`, sending a pipeline every SCRIPTS_PER_SLICE items as soon
   * as it is built, so Redis runs the first scripts while the rest are still being encoded. Nothing waits between
   * slices: it is still one round trip, and the one connection keeps every command in order. Replies come back in
   * the order queued.
   */
  private async execInSlices<T>(
    head: (pipeline: ScriptedPipeline) => void,
    items: readonly T[],
    queue: (pipeline: ScriptedPipeline, item: T) => void,
    tail: (pipeline: ScriptedPipeline) => void,
  ): Promise<unknown[]> {
    const sent: Array<Promise<unknown[]>> = [];
    let pipeline = this.redis.pipeline() as ScriptedPipeline;
    head(pipeline);
    items.forEach((item, index) => {
      queue(pipeline, item);
      if ((index + 1) % SCRIPTS_PER_SLICE === 0) {
        sent.push(execPipeline(pipeline));
        pipeline = this.redis.pipeline() as ScriptedPipeline;
      }
    });
    tail(pipeline);
    if (pipeline.length > 0) sent.push(execPipeline(pipeline));
    return (await Promise.all(sent)).flat();
  }

  private storedInventory(raw: string | null): PodInventory | null {
    if (raw === null) return null;
    let parsed = this.inventories.get(raw);
    if (parsed === undefined) {
      parsed = parseStoredInventory(raw);
      if (this.inventories.size >= MAX_CACHED_INVENTORIES) this.inventories.clear();
      this.inventories.set(raw, parsed);
    }
    return parsed;
  }

  async loadLineages(keys: readonly string[]): Promise<Map<string, string>> {
    const documents = new Map<string, string>();
    if (keys.length === 0) return documents;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.get(lineageStoreKey(key));
    const replies = await execPipeline(pipeline);
    keys.forEach((key, i) => {
      const reply = replies[i];
      if (typeof reply === 'string') documents.set(key, reply);
    });
    return documents;
  }

  async commit(commits: StateCommit[], eventsToMark: EventRef[] = []): Promise<Set<string>> {
    if (commits.length === 0 && eventsToMark.length === 0) return new Set();
    const replies = await this.execInSlices(
      () => {},
      commits,
      (pipeline, commit) =>
        pipeline.kpCommitState(
          stateKey(commit.seriesKey),
          commit.expectedVersion,
          this.options.windowTtlSeconds,
          ...Object.entries(commit.fields).flat(),
        ),
      (pipeline) => {
        for (const event of eventsToMark) {
          pipeline.set(this.eventKey(event), '1', 'EX', this.options.eventDedupTtlSeconds);
        }
        // After the states, outside their compare-and-set (another slot): a lineage is a hint for successors,
        // and the last writer winning is all it promises.
        for (const { lineage } of commits) {
          if (lineage)
            pipeline.set(lineageStoreKey(lineage.key), lineage.document, 'EX', this.options.windowTtlSeconds);
        }
      },
    );
    const conflicts = new Set<string>();
    commits.forEach((commit, index) => {
      if (Number(replies[index]) !== 1) conflicts.add(commit.seriesKey);
    });
    return conflicts;
  }
}

async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  let results: Array<[Error | null, unknown]> | null;
  try {
    results = await pipeline.exec();
  } catch (error) {
    throw new DependencyUnavailableError('redis', (error as Error).message, { cause: error });
  }
  if (results === null) throw new DependencyUnavailableError('redis', 'pipeline was discarded');
  return results.map(([error, reply]) => {
    if (error) {
      // A script error is a bug or a corrupted key, not an outage; still retryable so nothing is lost.
      throw new DependencyUnavailableError('redis', error.message, { cause: error });
    }
    return reply;
  });
}

export function packSamples(samples: ReadonlyArray<readonly [number, number]>): Buffer {
  const buffer = Buffer.allocUnsafe(samples.length * RECORD_BYTES);
  samples.forEach(([ts, value], i) => {
    buffer.writeUInt32LE(ts, i * RECORD_BYTES);
    buffer.writeDoubleLE(value, i * RECORD_BYTES + 4);
  });
  return buffer;
}

export function unpackSamples(packed: Buffer): { timestamps: Uint32Array; values: Float64Array } {
  const count = Math.floor(packed.length / RECORD_BYTES);
  const timestamps = new Uint32Array(count);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    timestamps[i] = packed.readUInt32LE(i * RECORD_BYTES);
    values[i] = packed.readDoubleLE(i * RECORD_BYTES + 4);
  }
  return { timestamps, values };
}

function parseStoredInventory(raw: string): PodInventory | null {
  const parsed = PodInventorySchema.safeParse(JSON.parse(raw));
  // Stored inventory was validated on the way in; a mismatch means an older schema, treated as unknown.
  return parsed.success ? parsed.data : null;
}
