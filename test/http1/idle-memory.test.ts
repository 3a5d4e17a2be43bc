/**
 * What an idle keep-alive connection keeps: nothing of the last request. A parser between messages
 * holds neither the bytes it was given (its latin1 window) nor the fields it handed out.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { Http1Parser, type MessageHead } from '../../lib/http1/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('after a message, the parser keeps neither the read it came in nor its fields (whole head and byte by byte)', async () => {
  for (const split of [false, true]) {
    let fields: WeakRef<string[]> | null = null;
    const parser = new Http1Parser('request', {
      onHeadersComplete(head: MessageHead) {
        fields = new WeakRef(head.headers);
      },
      onBody() {},
      onMessageComplete() {},
    });
    // Its own allocation (not a slice of Buffer's shared pool), so it can be collected on its own.
    let bytes: Buffer | null = Buffer.alloc(64, ' ');
    const n = bytes.write('GET / HTTP/1.1\r\nHost: a\r\nX-Long: ' + 'v'.repeat(20) + '\r\n\r\n', 'latin1');
    bytes = bytes.subarray(0, n);
    const read = new WeakRef(bytes);
    if (split) for (let i = 0; i < n; i++) parser.execute(bytes.subarray(i, i + 1));
    else parser.execute(bytes);
    bytes = null;
    expect(fields).not.toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect([split, read.deref(), fields!.deref()]).toEqual([split, undefined, undefined]);
    expect(parser.idle).toBe(true);
  }
});
