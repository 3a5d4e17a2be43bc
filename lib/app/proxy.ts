/**
 * The client address behind reverse proxies. `X-Forwarded-For` is a list the client can start with
 * anything, so it is believed only hop by hop from the right: starting at the socket peer, each address
 * that is a trusted proxy lets us take one more entry to its left; the first untrusted one is the client.
 */
import net from 'node:net';

/**
 * Which peers are proxies: `true` (all — only when the app is reachable solely through them), a hop
 * count, a list of addresses or CIDR ranges (`'10.0.0.0/8'`, `'::1'`), or a predicate.
 */
export type TrustProxy = boolean | number | readonly string[] | ((address: string, hop: number) => boolean);

/** Compiles a TrustProxy setting into a predicate over (address, hop index from the right). */
export function compileTrust(trust: TrustProxy | undefined): (address: string, hop: number) => boolean {
  if (trust === undefined || trust === false) return () => false;
  if (trust === true) return () => true;
  if (typeof trust === 'number') return (_a, hop) => hop < trust;
  if (typeof trust === 'function') return trust;
  const list = new net.BlockList();
  for (const entry of trust) {
    const [addr, bits] = entry.split('/');
    const type = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    const type = net.isIPv6(plain) ? 'ipv6' : net.isIPv4(plain) ? 'ipv4' : undefined;
    return type !== undefined && list.check(plain, type);
  };
}

/**
 * The chain of addresses from the client to the socket peer, trimmed to what trusted hops vouch for:
 * `[client, ...proxies, peer]`. The first element is the client address. A unix socket's peer has no
 * address (`peer` undefined): it is a local process — a proxy, trusted by `true`, a hop count or a function
 * (given the address `''`), never by an address list — and is left out of the chain.
 */
export function forwardedChain(peer: string | undefined, xff: string | undefined, trusted: (address: string, hop: number) => boolean): string[] {
  const chain = peer === undefined ? [] : [peer];
  if (xff === undefined) return chain;
  const hops = xff.split(',').map((s) => s.trim()).filter((s) => s !== '');
  let current = peer ?? '';
  for (let hop = 0; trusted(current, hop) && hops.length > 0; hop++) {
    current = hops.pop()!;
    chain.unshift(current);
  }
  return chain;
}
