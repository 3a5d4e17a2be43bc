/**
 * The standard health service (grpc.health.v1.Health, grpc/doc/health-checking.md): `Check` answers a
 * service's status now (NOT_FOUND for a service it does not know), `Watch` streams it — the current one at
 * once, then each change — until the client goes. The service name "" is the server as a whole.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerCall } from './call.js';
import { readFields, PbWriter, stringField } from './pb.js';
import { method } from './service.js';
import { GrpcError, Status } from './status.js';

/** ServingStatus of health.proto. */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
export type ServingStatusName = keyof typeof ServingStatus;

const request = {
  serialize: (v: { service: string }) => new PbWriter().bytes(1, v.service).finish(),
  deserialize: (b: Buffer) => ({ service: stringField(readFields(b), 1) }),
};
const response = {
  serialize: (v: { status: ServingStatusName }) => new PbWriter().uint(1, ServingStatus[v.status]).finish(),
  deserialize: (b: Buffer) => {
    const f = readFields(b).find((x) => x.no === 1 && x.wire === 0);
    const n = (f?.value as number | undefined) ?? 0;
    return { status: (Object.keys(ServingStatus) as ServingStatusName[]).find((k) => ServingStatus[k] === n) ?? 'UNKNOWN' };
  },
};

/** grpc.health.v1.Health. */
export const HealthService = {
  Check: method('/grpc.health.v1.Health/Check', 'unary', request, response),
  Watch: method('/grpc.health.v1.Health/Watch', 'server-streaming', request, response),
};

export interface HealthOptions {
  /**
   * The status of `service` ("" for the whole server): SERVING, NOT_SERVING, or SERVICE_UNKNOWN for a name
   * the server does not serve.
   */
  status: (service: string) => ServingStatusName | Promise<ServingStatusName>;
  /** How often `Watch` looks for a change (ms). Default 1000. */
  watchIntervalMs?: number;
}

/**
 * The health service's implementation.
 *
 * @example
 * ```ts
 * server.add(HealthService, healthImplementation({ status: async (s) => (s === '' || s === 'notes.Notes' ? ((await db.ping().then(() => true, () => false)) ? 'SERVING' : 'NOT_SERVING') : 'SERVICE_UNKNOWN') }));
 * ```
 */
export function healthImplementation(options: HealthOptions) {
  const every = options.watchIntervalMs ?? 1000;
  return {
    async Check(req: { service: string }): Promise<{ status: ServingStatusName }> {
      const status = await options.status(req.service);
      if (status === 'SERVICE_UNKNOWN') throw new GrpcError(Status.NOT_FOUND, `unknown service ${JSON.stringify(req.service)}`);
      return { status };
    },
    async *Watch(req: { service: string }, call: ServerCall): AsyncGenerator<{ status: ServingStatusName }> {
      let last: ServingStatusName | null = null;
      while (!call.cancelled) {
        const status = await options.status(req.service);
        if (status !== last) {
          last = status;
          yield { status };
        }
        // Resolves early (rejecting, ignored) when the call ends; leaves no listener behind either way.
        await sleep(every, undefined, { signal: call.signal }).catch(() => {});
      }
    },
  };
}
