/**
 * Connection IDs (RFC 9000 §5.1): ours — the ids the client may address us by, issued with
 * NEW_CONNECTION_ID (§19.15) up to the client's active_connection_id_limit and replaced as it retires them
 * (RETIRE_CONNECTION_ID, §19.16) — and the client's, which it issues to us within our limit: past it,
 * CONNECTION_ID_LIMIT_ERROR (§5.1.1); those below its Retire Prior To are retired (§5.1.2), and the one we
 * address it by moves on when it goes.
 */
import { randomBytes } from 'node:crypto';
import { QuicConnectionError } from './errors.js';
import { own } from './owned.js';

/** Our ids are 8 bytes: the endpoint reads a short header's DCID by that length. */
export const CID_LENGTH = 8;
/** Ids of ours active at once, whatever the client allows: enough to move or rotate, few to route. */
const OURS_MAX = 4;

/** One of the client's ids (from its NEW_CONNECTION_ID). */
interface PeerId {
  cid: Buffer;
  resetToken: Buffer | null;
}

/**
 * @example
 * ```ts
 * const ids = new ConnectionIds(localCid, peerCid, 2);
 * for (const { seq, cid } of ids.issue(clientParams.activeConnectionIdLimit)) queueNewConnectionId(seq, cid);
 * const gone = ids.retire(frame.seq, packetDcid); // unroute it, issue another
 * ```
 */
export class ConnectionIds {
  /** Ours in use, by sequence number (0: the one chosen for the handshake). */
  readonly #ours = new Map<number, Buffer>();
  #nextSeq = 1;
  /** The client's, by sequence number; `#peerSeq` is the one we address it by. */
  readonly #theirs = new Map<number, PeerId>();
  #peerSeq = 0;
  #retirePriorTo = 0;
  /** Our active_connection_id_limit: how many of the client's we keep (§18.2). */
  readonly #limit: number;
  /** The client addresses packets to us by a zero-length id: it may issue none (§19.15). */
  readonly #zeroLength: boolean;

  constructor(local: Buffer, peer: Buffer, limit: number) {
    this.#zeroLength = peer.length === 0;
    this.#ours.set(0, local);
    this.#theirs.set(0, { cid: peer, resetToken: null });
    this.#limit = limit;
  }

  /** Our ids in use now. */
  get ours(): Buffer[] {
    return [...this.#ours.values()];
  }

  /** New ids of ours, so the client holds as many as it allows (at most four): sequence numbers and ids. */
  issue(peerLimit: number): Array<{ seq: number; cid: Buffer }> {
    const out: Array<{ seq: number; cid: Buffer }> = [];
    const want = Math.min(peerLimit, OURS_MAX);
    while (this.#ours.size < want) {
      const seq = this.#nextSeq++;
      const cid = own(randomBytes(CID_LENGTH));
      this.#ours.set(seq, cid);
      out.push({ seq, cid });
    }
    return out;
  }

  /**
   * RETIRE_CONNECTION_ID (§19.16): the id of ours it names, no longer to be routed to us — or null when it
   * was retired already. A sequence number never issued, or the id the packet carrying the frame was sent to,
   * is a PROTOCOL_VIOLATION.
   */
  retire(seq: number, packetDcid: Buffer): Buffer | null {
    if (seq >= this.#nextSeq) throw new QuicConnectionError(0x0a, `RETIRE_CONNECTION_ID for sequence number ${seq}, never issued (§19.16)`);
    const cid = this.#ours.get(seq);
    if (cid === undefined) return null;
    if (cid.equals(packetDcid)) throw new QuicConnectionError(0x0a, 'RETIRE_CONNECTION_ID for the connection id its own packet was sent to (§19.16)');
    this.#ours.delete(seq);
    return cid;
  }

  /**
   * The client moved with a new id of ours: it must not see its own old id on the new path either (§9.5).
   * Moves us to an unused id of the client's, returning it and the sequence number to retire; null when the
   * client gave us none to spare (we keep the one we have: §9.5 allows it when none is available).
   */
  rotatePeer(): { peer: Buffer; retire: number } | null {
    let next = -1;
    for (const s of this.#theirs.keys()) if (s > this.#peerSeq && (next < 0 || s < next)) next = s;
    if (next < 0) return null;
    const retire = this.#peerSeq;
    this.#theirs.delete(retire);
    this.#peerSeq = next;
    return { peer: this.#theirs.get(next)!.cid, retire };
  }

  /**
   * NEW_CONNECTION_ID from the client (§19.15). Returns the sequence numbers we must retire (below its Retire
   * Prior To), and the id to address it by from now on when ours was among them (else null).
   */
  received(seq: number, retirePriorTo: number, cid: Buffer, resetToken: Buffer): { retire: number[]; peer: Buffer | null } {
    if (this.#zeroLength) {
      throw new QuicConnectionError(0x0a, 'NEW_CONNECTION_ID from a client using a zero-length connection id (§19.15)');
    }
    if (cid.length < 1 || cid.length > 20) throw new QuicConnectionError(0x07, `NEW_CONNECTION_ID with a ${cid.length}-byte id (§19.15)`);
    if (retirePriorTo > seq) throw new QuicConnectionError(0x07, 'NEW_CONNECTION_ID retires prior to past its own sequence number (§19.15)');
    const known = this.#theirs.get(seq);
    if (known !== undefined) {
      if (!known.cid.equals(cid)) throw new QuicConnectionError(0x0a, `NEW_CONNECTION_ID ${seq} again with another id (§19.15)`);
      return { retire: [], peer: null }; // a repeat
    }
    for (const [s, p] of this.#theirs) if (p.cid.equals(cid)) throw new QuicConnectionError(0x0a, `NEW_CONNECTION_ID ${seq} repeats the id of ${s} (§19.15)`);
    if (seq < this.#retirePriorTo) return { retire: [seq], peer: null }; // already below the line: retired at once (§5.1.2)
    this.#theirs.set(seq, { cid: own(cid), resetToken: own(resetToken) });
    const retire: number[] = [];
    if (retirePriorTo > this.#retirePriorTo) {
      this.#retirePriorTo = retirePriorTo;
      for (const s of [...this.#theirs.keys()]) {
        if (s < retirePriorTo) {
          this.#theirs.delete(s);
          retire.push(s);
        }
      }
    }
    if (this.#theirs.size > this.#limit) {
      throw new QuicConnectionError(0x09, `the client keeps ${this.#theirs.size} connection ids active, past our limit of ${this.#limit} (§5.1.1)`);
    }
    let peer: Buffer | null = null;
    if (!this.#theirs.has(this.#peerSeq)) {
      // Ours was retired: the lowest remaining one (there is one: the frame's own id is at or above the line).
      this.#peerSeq = Math.min(...this.#theirs.keys());
      peer = this.#theirs.get(this.#peerSeq)!.cid;
    }
    return { retire, peer };
  }
}
