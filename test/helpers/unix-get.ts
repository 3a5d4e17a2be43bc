import { request } from 'node:http';

/** A GET over the unix socket at `socketPath` (node:http, no agent): the status and the body as text. */
export function getOverUnixSocket(socketPath: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => void (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}
