/**
 * WebSocket rooms: join/leave, broadcast to a room, presence — in one process, or across processes and
 * machines through Redis pub/sub (sharded channels, SPUBLISH/SSUBSCRIBE, when the server has them).
 * A broadcast is serialized and framed once (`prepareMessage`) however many members get it, and
 * published to Redis once; each other instance frames it once for its own members.
 */
import { randomBytes } from 'node:crypto';
import { redisGuard, type RedisClient } from '../redis-client.js';
import { prepareMessage, type WebSocket } from '../../ws/index.js';

export interface RoomsOptions {
  /** Redis for cross-instance broadcast and presence; without it, rooms are local to this process. */
  redis?: RedisClient;
  /** Key and channel prefix. Default `covet:rt:`. */
  prefix?: string;
  /**
   * Sharded pub/sub (Redis ≥ 7): `'auto'` (default) uses it with a standalone client when the server
   * supports it; with a Cluster client pass `true` only if it was created with `shardedSubscribers: true`.
   */
  sharded?: boolean | 'auto';
}

export interface Member {
  /** The instance (process) holding the connection. */
  instance: string;
  id: string;
  meta: unknown;
}

interface Local {
  id: string;
  rooms: Set<string>;
  meta: Map<string, unknown>;
}

const HEARTBEAT_MS = 5000;
const INSTANCE_TTL_MS = 15_000;

/**
 * @example
 * ```ts
 * const rooms = new Rooms({ redis });
 * app.ws('/chat/{room:slug}', { open(ws, ctx) {
 *   const room = ctx.params.room;
 *   rooms.join(ws, room, { name: 'ann' });
 *   ws.on('message', (m) => rooms.broadcast(room, { from: 'ann', text: String(m) }));
 * } });
 * ```
 */
export class Rooms {
  /** This process's id in presence lists and messages. */
  readonly instance = randomBytes(8).toString('hex');
  readonly #byRoom = new Map<string, Set<WebSocket>>();
  readonly #bySocket = new Map<WebSocket, Local>();
  readonly #redis: RedisClient | undefined;
  readonly #sub: RedisClient | undefined;
  readonly #prefix: string;
  #sharded: boolean | null = null;
  readonly #setup: Promise<void>;
  #heartbeat: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: RoomsOptions = {}) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'covet:rt:';
    if (this.#redis === undefined) {
      this.#setup = Promise.resolve();
      return;
    }
    const sub = (this.#sub = (this.#redis as { duplicate(): RedisClient }).duplicate());
    sub.on('error', () => {});
    redisGuard(sub, () => {}); // the outage is logged once, by the main client's guard
    sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => this.#onRemote(ch.toString(), msg));
    sub.on('smessageBuffer', (ch: Buffer, msg: Buffer) => this.#onRemote(ch.toString(), msg));
    // After an outage: the rooms joined meanwhile were never subscribed (ioredis restores only its own).
    sub.on('ready', () => void this.#subscribe([...this.#byRoom.keys()]).catch(() => {}));
    this.#setup = (async () => {
      if (options.sharded === true || options.sharded === false) this.#sharded = options.sharded;
      else if ((this.#redis as { isCluster?: boolean }).isCluster === true) {
        // A Cluster client routes SSUBSCRIBE to the right shard only when built with
        // `shardedSubscribers: true`; classic pub/sub reaches every node: the safe default here.
        this.#sharded = false;
      } else {
        const info = await this.#redis!.info('server');
        const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
        this.#sharded = major >= 7;
      }
      await this.#beat();
    })();
    this.#heartbeat = setInterval(() => void this.#beat().catch(() => {}), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #subscribe(rooms: string[]): Promise<unknown> {
    const sub = this.#sub!;
    if (rooms.length === 0) return Promise.resolve();
    const channels = rooms.map((r) => this.#channel(r));
    return redisGuard(sub).run(() => (this.#sharded ? sub.ssubscribe(...channels) : sub.subscribe(...channels)), undefined, this.#sharded ? 'SSUBSCRIBE' : 'SUBSCRIBE');
  }

  /** Resolves once Redis is set up (capabilities known); local rooms are ready at once. */
  ready(): Promise<void> {
    return this.#setup;
  }

  async #beat(): Promise<void> {
    await this.#redis!.set(`${this.#prefix}instance:${this.instance}`, '1', 'PX', INSTANCE_TTL_MS);
  }

  #channel(room: string): string {
    // A hash tag keeps a room's channel on one shard in a cluster.
    return `${this.#prefix}{room:${room}}`;
  }

  /** Adds `ws` to `room` (left automatically when it closes). */
  async join(ws: WebSocket, room: string, meta?: unknown): Promise<void> {
    let local = this.#bySocket.get(ws);
    if (local === undefined) {
      local = { id: randomBytes(6).toString('base64url'), rooms: new Set(), meta: new Map() };
      this.#bySocket.set(ws, local);
      ws.on('close', () => void this.leaveAll(ws));
    }
    if (local.rooms.has(room)) return;
    local.rooms.add(room);
    local.meta.set(room, meta ?? null);
    let set = this.#byRoom.get(room);
    if (set === undefined) {
      this.#byRoom.set(room, (set = new Set()));
      if (this.#sub !== undefined) {
        await this.#setup;
        // While Redis is down this fails at once; the subscriber's next 'ready' subscribes every room.
        await this.#subscribe([room]).catch(() => {});
      }
    }
    set.add(ws);
    // Presence is best effort while Redis is down: the member is local and its messages still flow here.
    if (this.#redis !== undefined) {
      const redis = this.#redis;
      await redisGuard(redis)
        .run(() => redis.hset(`${this.#prefix}presence:${room}`, `${this.instance}:${local.id}`, JSON.stringify(meta ?? null)), undefined, 'HSET')
        .catch(() => {});
    }
  }

  async leave(ws: WebSocket, room: string): Promise<void> {
    const local = this.#bySocket.get(ws);
    if (local === undefined || !local.rooms.delete(room)) return;
    local.meta.delete(room);
    const set = this.#byRoom.get(room);
    set?.delete(ws);
    if (set !== undefined && set.size === 0) {
      this.#byRoom.delete(room);
      if (this.#sub !== undefined && !this.#closed) {
        if (this.#sharded) await this.#sub.sunsubscribe(this.#channel(room)).catch(() => {});
        else await this.#sub.unsubscribe(this.#channel(room)).catch(() => {});
      }
    }
    if (this.#redis !== undefined && !this.#closed) await this.#redis.hdel(`${this.#prefix}presence:${room}`, `${this.instance}:${local.id}`).catch(() => {});
  }

  async leaveAll(ws: WebSocket): Promise<void> {
    const local = this.#bySocket.get(ws);
    if (local === undefined) return;
    for (const room of [...local.rooms]) await this.leave(ws, room);
    this.#bySocket.delete(ws);
  }

  /** Members of `room` in this process. */
  localMembers(room: string): ReadonlySet<WebSocket> {
    return this.#byRoom.get(room) ?? new Set();
  }

  /** Everyone in `room`, on every live instance (members of instances that died are left out and cleaned). */
  async presence(room: string): Promise<Member[]> {
    if (this.#redis === undefined) {
      return [...this.localMembers(room)].map((ws) => {
        const l = this.#bySocket.get(ws)!;
        return { instance: this.instance, id: l.id, meta: l.meta.get(room) };
      });
    }
    const key = `${this.#prefix}presence:${room}`;
    const redis = this.#redis;
    const all = await redisGuard(redis).run(() => redis.hgetall(key), undefined, 'HGETALL');
    const instances = [...new Set(Object.keys(all).map((f) => f.slice(0, f.indexOf(':'))))];
    // One GET per instance key (an MGET across Cluster slots would be refused).
    const alive = await Promise.all(instances.map((i) => this.#redis!.get(`${this.#prefix}instance:${i}`)));
    const live = new Set(instances.filter((_, i) => alive[i] !== null));
    const dead = Object.keys(all).filter((f) => !live.has(f.slice(0, f.indexOf(':'))));
    if (dead.length > 0) await this.#redis.hdel(key, ...dead);
    return Object.entries(all)
      .filter(([f]) => live.has(f.slice(0, f.indexOf(':'))))
      .map(([f, meta]) => ({ instance: f.slice(0, f.indexOf(':')), id: f.slice(f.indexOf(':') + 1), meta: JSON.parse(meta) as unknown }));
  }

  /**
   * Sends to every member of `room`, here and on other instances: objects as JSON text, strings as
   * text, Buffers as binary. Returns how many local members it was queued for.
   */
  async broadcast(room: string, data: unknown, options: { except?: WebSocket } = {}): Promise<number> {
    const binary = Buffer.isBuffer(data);
    const payload = binary ? (data as Buffer) : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
    const n = this.#deliver(room, payload, binary, options.except);
    if (this.#redis !== undefined) {
      await this.#setup;
      // [8-byte instance id][1 byte: b/t][payload]
      const msg = Buffer.concat([Buffer.from(this.instance, 'hex'), Buffer.from(binary ? 'b' : 't'), payload]);
      // Redis down: local members got it; the others miss it (pub/sub keeps nothing), and the sender is not held up.
      const redis = this.#redis;
      await redisGuard(redis)
        .run(() => (this.#sharded ? redis.spublish(this.#channel(room), msg) : redis.publish(this.#channel(room), msg)), undefined, this.#sharded ? 'SPUBLISH' : 'PUBLISH')
        .catch(() => {});
    }
    return n;
  }

  #deliver(room: string, payload: Buffer, binary: boolean, except?: WebSocket): number {
    const members = this.#byRoom.get(room);
    if (members === undefined || members.size === 0) return 0;
    const msg = prepareMessage(binary ? payload : payload.toString('utf8'));
    let n = 0;
    for (const ws of members) {
      if (ws === except) continue;
      ws.sendPrepared(msg);
      n++;
    }
    return n;
  }

  #onRemote(channel: string, msg: Buffer): void {
    if (msg.length < 9 || msg.subarray(0, 8).toString('hex') === this.instance) return;
    const room = /\{room:(.*)\}$/.exec(channel)?.[1];
    if (room === undefined) return;
    this.#deliver(room, msg.subarray(9), msg[8] === 0x62);
  }

  /** Leaves every room and disconnects from Redis. */
  async close(): Promise<void> {
    for (const ws of [...this.#bySocket.keys()]) await this.leaveAll(ws);
    this.#closed = true;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    if (this.#redis !== undefined) await this.#redis.del(`${this.#prefix}instance:${this.instance}`).catch(() => {});
    this.#sub?.disconnect();
  }
}
