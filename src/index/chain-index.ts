import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../codec/canonical.ts';
import { ReceiptCodec, type Event } from '../codec/core.ts';
import { ADDRESS_LENGTH, type Address } from '../crypto/address.ts';
import { concatBytes, readU32be, readU64be, u32be, u64be, utf8 } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { listElements, moduleEvents } from '../state/events.ts';
import type { ChainEvent, EventDefinition, EventFilter, IndexReader, IndexedTx, Module } from '../state/module.ts';
import type { BlockStore } from '../storage/block-store.ts';
import { Bucket, INDEX_BUCKETS, bucketEnd, bucketKey, type BucketId } from '../storage/buckets.ts';
import type { KvStore, WriteBatch } from '../storage/db.ts';
import { END_BLOCK_POSITION, storedCommittedBlock, type CommittedBlock } from './committed-block.ts';
import type { IndexMessages, IndexedTxRecord } from './index.pb.ts';

/*
 * The chain index: what only queries need, in the node's LevelDB beside the state tree but never
 * in it, so it can grow without touching the state root or the tree's write load. For each block,
 * in a batch of its own written after the block commits (`follow`, `writeTo`):
 *   - a block record (hash, time, tx count) and, per transaction, its record (hash, sender, type,
 *     failed, the receipt's canonical bytes); the block's end-of-block events get one more record at
 *     position 0xffffffff;
 *   - per transaction and event type, a lookup key "type ‖ height ‖ position" (events by type);
 *   - per transaction and value of an `indexed` field (each element of an indexed list field),
 *     "type ‖ field ‖ value ‖ height ‖ position" (events by attribute: payments by payer, model or
 *     earner, actions by agent, ...);
 *   - "sender ‖ height ‖ position" (transactions by sender).
 * Lookup keys are per transaction, not per event or element (a payment whose legs pay one owner
 * eight times writes one key for that owner), and their value is how many matching events the
 * transaction holds, so a reader can skip whole transactions without reading them. Everything is
 * a pure function of the block, its receipts and the event declarations, so `rebuild` reproduces
 * it byte for byte.
 */

export type IndexErrorCode = 'index/not_indexed' | 'index/missing_block';

const schema = parseSchema<IndexMessages>(readFileSync(new URL('./index.proto', import.meta.url), 'utf8'));

const IndexedBlockCodec = messageCodec(schema, 'tributary.index.IndexedBlock');
const IndexedTxRecordCodec = messageCodec(schema, 'tributary.index.IndexedTxRecord');

/** A transaction's index record with the events of its receipt decoded. */
type TxRecord = IndexedTxRecord & { events: Event[] };

const EMPTY = new Uint8Array(0);
/** Height (8 bytes) and position (4 bytes) end every lookup key. */
const PLACE_BYTES = 12;
/** Longest event type or field name that gets lookup keys (one length byte). */
const MAX_NAME_BYTES = 0xff;
/** Longest attribute value that gets a lookup key (two length bytes). */
const MAX_VALUE_BYTES = 0xffff;
const REBUILD_BATCH_OPS = 50_000;
/** The usual lookup value (batches copy what they are given, so one array serves every put). */
const COUNT_ONE = Uint8Array.of(0, 0, 0, 1);

function place(height: number, position: number): Uint8Array {
  const out = new Uint8Array(PLACE_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(height));
  view.setUint32(8, position);
  return out;
}

function lengthPrefixed(bytes: Uint8Array, lengthBytes: 1 | 2): Uint8Array {
  const out = new Uint8Array(lengthBytes + bytes.length);
  if (lengthBytes === 1) out[0] = bytes.length;
  else new DataView(out.buffer).setUint16(0, bytes.length);
  out.set(bytes, lengthBytes);
  return out;
}

/** Type (and field) part of a lookup key, without the bucket byte; undefined if too long to index. */
function nameKey(...names: string[]): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  for (const n of names) {
    const bytes = utf8.encode(n);
    if (bytes.length > MAX_NAME_BYTES) return undefined;
    parts.push(lengthPrefixed(bytes, 1));
  }
  return concatBytes(...parts);
}

function valueKey(value: string): Uint8Array | undefined {
  const bytes = utf8.encode(value);
  return bytes.length > MAX_VALUE_BYTES ? undefined : lengthPrefixed(bytes, 2);
}

function rangeEnd(prefix: Uint8Array): Uint8Array {
  // Every key under `prefix` is prefix ‖ 12 bytes of place: prefix ‖ 0xff * 13 is past all of them.
  const out = new Uint8Array(prefix.length + PLACE_BYTES + 1).fill(0xff);
  out.set(prefix, 0);
  return out;
}

interface Pointer {
  count: number;
  lastEvent: number;
}

/** Lookup-key prefixes of one block: "type" or "type\0field" -> value ("" for a type) -> prefix. */
type BlockPrefixes = Map<string, Map<string, Uint8Array | null>>;

export class ChainIndex implements IndexReader {
  private readonly db: KvStore;
  /** type -> fields with lookup keys -> whether the field is a list */
  private readonly indexedFields = new Map<string, ReadonlyMap<string, boolean>>();
  /** Memo of encoded (type) and (type, field) key parts. */
  private readonly nameKeys = new Map<string, Uint8Array | undefined>();
  private scratch = new Uint8Array(256);
  /** Blocks handed to `follow` are written one after another along this chain of promises. */
  private tail: Promise<void> = Promise.resolve();
  private behind = false;
  /** Told when a follow write fails (the chain logs it). */
  onWriteError: ((error: unknown) => void) | undefined;

  constructor(db: KvStore, events: ReadonlyMap<string, EventDefinition>) {
    this.db = db;
    for (const [type, def] of events) {
      const fields = Object.entries(def.fields).filter(([, f]) => f.indexed);
      if (fields.length > 0) this.indexedFields.set(type, new Map(fields.map(([name, f]) => [name, f.list === true])));
    }
  }

  static forModules(db: KvStore, modules: readonly Module[]): ChainIndex {
    return new ChainIndex(db, moduleEvents(modules));
  }

  // ---------------------------------------------------------------- writing

  /** Adds the index records of a committed block to the block's batch. */
  writeTo(batch: WriteBatch, block: CommittedBlock): void {
    const height = block.header.height;
    const prefixes: BlockPrefixes = new Map();
    batch.put(
      bucketKey(Bucket.indexBlock, u64be(height)),
      IndexedBlockCodec.encode({ hash: block.hash, time_ms: block.header.time_ms, tx_count: block.txs.length }),
    );
    for (let i = 0; i < block.txs.length; i++) {
      const tx = block.txs[i]!;
      const receipt = block.receipts[i]!;
      const at = place(height, i);
      batch.put(
        bucketKey(Bucket.indexTx, at),
        IndexedTxRecordCodec.encode({
          tx_hash: tx.hash,
          sender: tx.sender,
          tx_type: tx.type,
          failed: receipt.failed,
          receipt: block.receiptBytes[i]!,
        }),
      );
      batch.put(bucketKey(Bucket.indexTxBySender, tx.sender, at), EMPTY);
      this.writeLookups(batch, receipt.events, at, prefixes);
    }
    if (block.endBlockEvents.length > 0) {
      const at = place(height, END_BLOCK_POSITION);
      batch.put(
        bucketKey(Bucket.indexTx, at),
        IndexedTxRecordCodec.encode({
          tx_hash: EMPTY,
          sender: EMPTY,
          tx_type: '',
          failed: false,
          receipt: ReceiptCodec.encode({
            tx_hash: EMPTY,
            failed: false,
            error_code: '',
            error_message: '',
            fee: 0n,
            events: [...block.endBlockEvents],
          }),
        }),
      );
      this.writeLookups(batch, block.endBlockEvents, at, prefixes);
    }
  }

  /**
   * `prefixes` lives for one block: its payments name the same types, fields and earners over and
   * over, so each lookup key's prefix (bucket, type, field, value) is built once per block, and
   * the prefix object itself identifies the lookup within a transaction.
   */
  private writeLookups(batch: WriteBatch, events: readonly Event[], at: Uint8Array, prefixes: BlockPrefixes): void {
    if (events.length === 0) return;
    // Insertion-ordered: the same events always give the same keys in the same order.
    const pointers = new Map<Uint8Array, Pointer>();
    const add = (prefix: Uint8Array | null, event: number): void => {
      if (!prefix) return;
      const p = pointers.get(prefix);
      if (!p) pointers.set(prefix, { count: 1, lastEvent: event });
      else if (p.lastEvent !== event) {
        // Once per event: a list naming a value twice is still one matching event.
        p.count += 1;
        p.lastEvent = event;
      }
    };
    for (let e = 0; e < events.length; e++) {
      const ev = events[e]!;
      add(this.prefixFor(prefixes, ev.type), e);
      const fields = this.indexedFields.get(ev.type);
      if (!fields) continue;
      for (const a of ev.attributes) {
        const list = fields.get(a.key);
        if (list === undefined) continue;
        if (!list) add(this.prefixFor(prefixes, ev.type, a.key, a.value), e);
        else for (const value of listElements(a.value)) add(this.prefixFor(prefixes, ev.type, a.key, value), e);
      }
    }
    for (const [prefix, p] of pointers) {
      // The batch copies the key at once, so one scratch buffer serves every lookup key.
      const length = prefix.length + at.length;
      if (this.scratch.length < length) this.scratch = new Uint8Array(length * 2);
      this.scratch.set(prefix, 0);
      this.scratch.set(at, prefix.length);
      batch.put(this.scratch.subarray(0, length), p.count === 1 ? COUNT_ONE : u32be(p.count));
    }
  }

  /** Lookup-key prefix of an event type, or of a type's field value; null when too long to index. */
  private prefixFor(prefixes: BlockPrefixes, type: string, field?: string, value?: string): Uint8Array | null {
    const group = field === undefined ? type : `${type}\u0000${field}`;
    let byValue = prefixes.get(group);
    if (!byValue) {
      byValue = new Map();
      prefixes.set(group, byValue);
    }
    const v = value ?? '';
    let prefix = byValue.get(v);
    if (prefix === undefined) {
      if (field === undefined) {
        const name = this.nameKeyOf(type);
        prefix = name ? bucketKey(Bucket.indexEventType, name) : null;
      } else {
        const name = this.nameKeyOf(type, field);
        const encoded = valueKey(v);
        prefix = name && encoded ? bucketKey(Bucket.indexEventAttr, name, encoded) : null;
      }
      byValue.set(v, prefix);
    }
    return prefix;
  }

  private nameKeyOf(type: string, field?: string): Uint8Array | undefined {
    const id = field === undefined ? type : `${type}\u0000${field}`;
    if (this.nameKeys.has(id)) return this.nameKeys.get(id);
    const key = field === undefined ? nameKey(type) : nameKey(type, field);
    this.nameKeys.set(id, key);
    return key;
  }

  // ---------------------------------------------------------------- following the chain

  /**
   * The index is written beside the chain, not in the block's batch: a block's five or so lookup
   * keys per transaction cost about 12 µs each transaction on the commit path, a tenth of the
   * block's execution and commit. So `follow` queues each committed block and writes its records in
   * a batch of their own, one block after another; every read first waits for the queue to drain,
   * so queries never see the index behind the chain. A crash can lose the last blocks' records
   * (their batch is not synced); `catchUp` rewrites them from the block store when the chain opens.
   */
  follow(block: CommittedBlock): void {
    this.tail = this.tail.then(async () => {
      const batch = this.db.writeBatch();
      this.writeTo(batch, block);
      try {
        await batch.write();
      } catch (e) {
        // Storage refuses writes (it records the fault itself): the records of this block and any
        // queued after it are rewritten by the next catchUp.
        this.behind = true;
        this.onWriteError?.(e);
      }
    });
  }

  /** Resolves once every block handed to `follow` is written. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Whether a write failed since the last catch-up (storage refused it). */
  get isBehind(): boolean {
    return this.behind;
  }

  /** Indexes the stored blocks above the index's height, up to the block store's. */
  async catchUp(blocks: BlockStore, opts: { onProgress?(height: number, top: number): void } = {}): Promise<number> {
    await this.idle();
    const from = (await this.indexedHeight()) + 1;
    let batch = this.db.writeBatch();
    for (let h = from; h <= blocks.latestHeight; h++) {
      this.writeTo(batch, await this.storedBlock(blocks, h));
      if (batch.length >= REBUILD_BATCH_OPS) {
        await batch.write();
        batch = this.db.writeBatch();
        opts.onProgress?.(h, blocks.latestHeight);
      }
    }
    await batch.write({ sync: true });
    this.behind = false;
    return Math.max(0, blocks.latestHeight - from + 1);
  }

  private async storedBlock(blocks: BlockStore, h: number): Promise<CommittedBlock> {
    const stored = await blocks.getBlock(h);
    const results = await blocks.getResults(h);
    if (!stored || !results) {
      throw new TributaryError('index/missing_block', `block ${h} or its receipts are missing from the block store`, {
        height: h,
      });
    }
    return storedCommittedBlock(stored.block, results);
  }

  // ---------------------------------------------------------------- rebuilding

  /** Height of the last block in the index (0 when empty). */
  async indexedHeight(): Promise<number> {
    await this.idle();
    for await (const [key] of this.db.range({
      gte: Uint8Array.of(Bucket.indexBlock),
      lt: bucketEnd(Bucket.indexBlock),
      reverse: true,
      limit: 1,
    })) {
      return readU64be(key, 1);
    }
    return 0;
  }

  /**
   * Drops every index record and recomputes them from the stored blocks and receipts, for a
   * database written before the index existed or by an older index layout. With the node stopped:
   * an interrupted rebuild leaves a partial index, and running it again starts over.
   */
  async rebuild(
    blocks: BlockStore,
    opts: { onProgress?(height: number): void } = {},
  ): Promise<{ height: number; records: number }> {
    await this.idle();
    await this.drop();
    let batch = this.db.writeBatch();
    let records = 0;
    for (let h = 1; h <= blocks.latestHeight; h++) {
      this.writeTo(batch, await this.storedBlock(blocks, h));
      if (batch.length >= REBUILD_BATCH_OPS) {
        records += batch.length;
        await batch.write();
        batch = this.db.writeBatch();
        opts.onProgress?.(h);
      }
    }
    records += batch.length;
    await batch.write({ sync: true });
    return { height: blocks.latestHeight, records };
  }

  private async drop(): Promise<void> {
    for (const bucket of INDEX_BUCKETS) {
      let batch = this.db.writeBatch();
      for await (const [key] of this.db.range({ gte: Uint8Array.of(bucket), lt: bucketEnd(bucket) })) {
        batch.del(key);
        if (batch.length >= REBUILD_BATCH_OPS) {
          await batch.write();
          batch = this.db.writeBatch();
        }
      }
      await batch.write({ sync: true });
    }
  }

  /** Every index record, for comparing two indexes (tests). */
  async *records(): AsyncIterable<[Uint8Array, Uint8Array]> {
    await this.idle();
    for (const bucket of INDEX_BUCKETS)
      yield* this.db.range({ gte: Uint8Array.of(bucket), lt: bucketEnd(bucket as BucketId) });
  }

  // ---------------------------------------------------------------- reading

  /** Whether `type.field` is an indexed event field (then `list`: whether it holds a list). */
  indexedField(type: string, field: string): { list: boolean } | undefined {
    const list = this.indexedFields.get(type)?.get(field);
    return list === undefined ? undefined : { list };
  }

  async *events(filter: EventFilter): AsyncIterable<ChainEvent> {
    await this.idle();
    let prefix: Uint8Array | undefined;
    let bucket: BucketId;
    const isList = filter.attribute ? this.indexedFields.get(filter.type)?.get(filter.attribute.key) : undefined;
    if (filter.attribute) {
      if (isList === undefined) {
        throw new TributaryError(
          'index/not_indexed',
          `${filter.type}.${filter.attribute.key} is not an indexed event field`,
          {
            type: filter.type,
            field: filter.attribute.key,
          },
        );
      }
      const name = this.nameKeyOf(filter.type, filter.attribute.key);
      const value = valueKey(filter.attribute.value);
      bucket = Bucket.indexEventAttr;
      prefix = name && value && bucketKey(bucket, name, value);
    } else {
      const name = this.nameKeyOf(filter.type);
      bucket = Bucket.indexEventType;
      prefix = name && bucketKey(bucket, name);
    }
    if (!prefix) return;
    const after = filter.after;
    const afterPosition = after ? (after.txIndex ?? END_BLOCK_POSITION) : 0;
    let gte = bucketKey(bucket, prefix.subarray(1), place(Math.max(0, filter.fromHeight ?? 0), 0));
    if (after) {
      const resume = bucketKey(bucket, prefix.subarray(1), place(after.height, afterPosition));
      if (Buffer.compare(resume, gte) > 0) gte = resume;
    }
    const lt =
      filter.toHeight === undefined
        ? rangeEnd(prefix)
        : bucketKey(bucket, prefix.subarray(1), place(filter.toHeight + 1, 0));
    const blocks = new BlockRefs(this.db);
    let toSkip = filter.skip ?? 0;
    for await (const [key, value] of this.db.range({ gte, lt })) {
      const height = readU64be(key, key.length - PLACE_BYTES);
      const position = readU32be(key, key.length - 4);
      const inAfterTx = after !== undefined && height === after.height && position === afterPosition;
      const matching = readU32be(value, 0);
      if (!inAfterTx && toSkip >= matching) {
        toSkip -= matching;
        continue;
      }
      const record = await this.txRecord(height, position);
      if (!record) continue;
      const block = await blocks.of(height);
      for (let e = 0; e < record.events.length; e++) {
        if (inAfterTx && e <= after.eventIndex) continue;
        const ev = record.events[e]!;
        if (ev.type !== filter.type) continue;
        if (filter.attribute && !eventHasValue(ev, filter.attribute.key, filter.attribute.value, isList!)) continue;
        if (toSkip > 0) {
          toSkip -= 1;
          continue;
        }
        yield chainEvent(height, position, e, block, record, ev);
      }
    }
  }

  async txEvents(height: number, txIndex: number): Promise<ChainEvent[]> {
    await this.idle();
    const record = await this.txRecord(height, txIndex);
    if (!record) return [];
    const block = await new BlockRefs(this.db).of(height);
    return record.events.map((ev, e) => chainEvent(height, txIndex, e, block, record, ev));
  }

  async *txsBySender(
    sender: Address,
    range: { fromHeight?: number; toHeight?: number; after?: { height: number; index: number } } = {},
  ): AsyncIterable<IndexedTx> {
    await this.idle();
    if (sender.length !== ADDRESS_LENGTH) return;
    let gte = bucketKey(Bucket.indexTxBySender, sender, place(Math.max(0, range.fromHeight ?? 0), 0));
    if (range.after) {
      const resume = bucketKey(Bucket.indexTxBySender, sender, place(range.after.height, range.after.index + 1));
      if (Buffer.compare(resume, gte) > 0) gte = resume;
    }
    const lt =
      range.toHeight === undefined
        ? rangeEnd(bucketKey(Bucket.indexTxBySender, sender))
        : bucketKey(Bucket.indexTxBySender, sender, place(range.toHeight + 1, 0));
    for await (const [key] of this.db.range({ gte, lt })) {
      const height = readU64be(key, key.length - PLACE_BYTES);
      const index = readU32be(key, key.length - 4);
      const record = await this.txRecord(height, index);
      if (record)
        yield {
          height,
          index,
          hash: record.tx_hash,
          sender: record.sender,
          type: record.tx_type,
          failed: record.failed,
        };
    }
  }

  private async txRecord(height: number, position: number): Promise<TxRecord | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.indexTx, place(height, position)));
    if (!raw) return undefined;
    const record = IndexedTxRecordCodec.decodeStored(raw);
    return { ...record, events: ReceiptCodec.decodeStored(record.receipt).events };
  }
}

/** Whether `event` holds `value` in `key` as the index matches it (for a list field: among its elements). */
export function eventHasValue(event: Event, key: string, value: string, list: boolean): boolean {
  for (const a of event.attributes) {
    if (a.key !== key) continue;
    if (list ? listElements(a.value).includes(value) : a.value === value) return true;
  }
  return false;
}

function chainEvent(
  height: number,
  position: number,
  eventIndex: number,
  block: BlockRef,
  record: IndexedTxRecord,
  event: Event,
): ChainEvent {
  const endBlock = position === END_BLOCK_POSITION;
  return {
    height,
    txIndex: endBlock ? null : position,
    eventIndex,
    blockHash: block.hash,
    blockTimeMs: block.timeMs,
    txHash: endBlock ? null : record.tx_hash,
    event,
  };
}

interface BlockRef {
  hash: Uint8Array;
  timeMs: number;
}

/** Block hashes and times for one read, consecutive lookups of one height costing one get. */
class BlockRefs {
  private height = -1;
  private ref: BlockRef = { hash: EMPTY, timeMs: 0 };
  private readonly db: KvStore;

  constructor(db: KvStore) {
    this.db = db;
  }

  async of(height: number): Promise<BlockRef> {
    if (height !== this.height) {
      const raw = await this.db.get(bucketKey(Bucket.indexBlock, u64be(height)));
      const stored = raw ? IndexedBlockCodec.decodeStored(raw) : undefined;
      this.ref = stored ? { hash: stored.hash, timeMs: stored.time_ms } : { hash: EMPTY, timeMs: 0 };
      this.height = height;
    }
    return this.ref;
  }
}
