/**
 * Our gRPC server against Python's grpcio (Debian's python3-grpcio, C core) as the client: the interop
 * client cases in test/grpc/python_interop.py, each reported by name.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGrpcServer, type GrpcServer } from '../../lib/grpc/index.js';
import { needPeers, PYTHON_GRPC } from '../peers.js';
import { interopServices, testServiceImpl } from './interop-service.js';

let server: GrpcServer;
beforeAll(async () => {
  const { TestService } = await interopServices();
  server = await createGrpcServer().add(TestService, testServiceImpl).listen({ host: '127.0.0.1' });
});
afterAll(() => server?.close(0));

it('every interop client case of grpcio passes against our server', async (ctx) => {
  needPeers(ctx, PYTHON_GRPC);
  const script = join(import.meta.dirname, 'python_interop.py');
  expect(existsSync(script)).toBe(true);
  const { stdout } = await promisify(execFile)(PYTHON_GRPC.command, [script, `127.0.0.1:${server.port}`], { timeout: 120_000 });
  const results = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
  expect(Object.keys(results)).toHaveLength(18);
  expect(Object.entries(results).filter(([, r]) => r !== 'ok')).toEqual([]);
}, 150_000);
