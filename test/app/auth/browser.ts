/** A browser for app.inject: keeps the cookies it is given (a Max-Age=0 one removes its cookie) and sends them back. */
import type { createApp, InjectResponse } from '../../../lib/app/index.js';

export function browser(app: ReturnType<typeof createApp>) {
  const jar = new Map<string, string>();
  return {
    jar,
    async go(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<InjectResponse> {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await app.inject({ method, url, headers: { ...headers, ...(cookie === '' ? {} : { cookie }) }, body });
      const set = res.headers['set-cookie'];
      for (const c of (set === undefined ? [] : Array.isArray(set) ? set : [set]) as string[]) {
        const [pair, ...attrs] = c.split('; ');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq);
        if (attrs.some((a) => /^max-age=0$/i.test(a))) jar.delete(name);
        else jar.set(name, pair!.slice(eq + 1));
      }
      return res;
    },
  };
}
