import { describe, expect, it } from 'vitest';
import { createApp, negotiateLanguage, negotiateMediaType, parseAccept } from '../../lib/app/index.js';

describe('content negotiation (RFC 9110 §12)', () => {
  it('parses ranges, parameters and weights', () => {
    expect(parseAccept('text/html;level=1;q=0.5, */*;q=0 , Application/JSON')).toEqual([
      { value: 'text/html', params: { level: '1' }, q: 0.5 },
      { value: '*/*', params: {}, q: 0 },
      { value: 'application/json', params: {}, q: 1 },
    ]);
  });

  it('chooses media types by q, then specificity, then server order', () => {
    const offers = ['application/json', 'text/html'];
    expect(negotiateMediaType(undefined, offers)).toBe('application/json');
    expect(negotiateMediaType('text/html', offers)).toBe('text/html');
    expect(negotiateMediaType('text/html;q=0.9, application/json', offers)).toBe('application/json');
    expect(negotiateMediaType('text/*, application/json;q=0.5', offers)).toBe('text/html');
    expect(negotiateMediaType('*/*', offers)).toBe('application/json');
    expect(negotiateMediaType('*/*;q=0.1, text/html;q=0.2', offers)).toBe('text/html');
    expect(negotiateMediaType('image/png', offers)).toBeUndefined();
    // The most specific matching range decides: text/html is refused though text/* is welcome.
    expect(negotiateMediaType('text/*, text/html;q=0', ['text/html', 'text/plain'])).toBe('text/plain');
    // RFC 9110 §12.5.1's example: "text/html;level=1" is more specific than "text/html".
    const accept = 'text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5';
    expect(negotiateMediaType(accept, ['text/html;level=2', 'image/jpeg'])).toBe('image/jpeg');
    expect(negotiateMediaType(accept, ['text/html;level=1', 'image/jpeg'])).toBe('text/html;level=1');
    expect(negotiateMediaType(accept, ['text/plain', 'text/html'])).toBe('text/html');
  });

  it('chooses languages by basic filtering (RFC 4647)', () => {
    expect(negotiateLanguage('fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5', ['en', 'fr', 'de'])).toBe('fr');
    expect(negotiateLanguage('en', ['en-GB', 'fr'])).toBe('en-GB');
    expect(negotiateLanguage('de', ['en', 'fr'])).toBeUndefined();
    expect(negotiateLanguage(undefined, ['en', 'fr'])).toBe('en');
  });

  it('ctx.negotiate answers the preferred representation, 406 when none fits, with Vary: Accept', async () => {
    const app = createApp();
    app.get('/note', (ctx) => ctx.negotiate({ json: () => ({ id: 1 }), 'text/csv': () => 'id\n1\n', html: () => '<p>1</p>' }));
    app.get('/lang', (ctx) => ctx.acceptsLanguages('en', 'fr') ?? 'none');
    const get = (accept?: string) => app.inject({ method: 'GET', url: '/note', headers: accept === undefined ? {} : { accept } });
    const json = await get();
    expect([json.headers['content-type'], json.json(), json.headers.vary]).toEqual(['application/json; charset=utf-8', { id: 1 }, 'Accept']);
    const csv = await get('text/csv, */*;q=0.1');
    expect([csv.headers['content-type'], csv.text()]).toEqual(['text/csv; charset=utf-8', 'id\n1\n']);
    expect((await get('text/html')).text()).toBe('<p>1</p>');
    const refused = await get('image/png');
    expect(refused.status).toBe(406);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.json<{ detail: string }>().detail).toBe('acceptable representations: application/json, text/csv, text/html');
    expect(refused.headers.vary).toBe('Accept');
    const lang = await app.inject({ method: 'GET', url: '/lang', headers: { 'accept-language': 'fr-CA, fr;q=0.8' } });
    expect([lang.text(), lang.headers.vary]).toEqual(['fr', 'Accept-Language']);
  });
});
