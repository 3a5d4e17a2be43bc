/**
 * Cron expressions: five fields — minute (0–59), hour (0–23), day of month (1–31), month (1–12), day of
 * week (0–7, 0 and 7 Sunday) — each `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n`, or a list of
 * those. Times are UTC. When both day fields are restricted, a day matching either runs (as in Vixie cron).
 *
 * @example
 * ```ts
 * const c = parseCron('30 3 * * 1-5');                 // 03:30 UTC on weekdays
 * nextCronTick(c, new Date('2026-12-04T04:00:00Z'));   // 2026-12-07T03:30:00.000Z (Monday)
 * ```
 */

export interface Cron {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
}

function field(text: string, min: number, max: number, name: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (m === null) throw new Error(`cron ${name}: "${part}" is not *, n, a-b, or a step`);
    const lo = m[1] === '*' ? min : Number(m[2]);
    const hi = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) throw new Error(`cron ${name}: "${part}" is outside ${min}–${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/**
 * Parses a five-field expression; throws an error naming the field at fault.
 *
 * @example
 * ```ts
 * const nightly = parseCron('30 2 * * *'); // 02:30 every day (UTC)
 * ```
 */
export function parseCron(source: string): Cron {
  const f = source.trim().split(/\s+/);
  if (f.length !== 5) throw new Error(`cron "${source}": five fields (minute hour day month weekday), got ${f.length}`);
  const weekdays = field(f[4]!, 0, 7, 'day of week');
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    source,
    minutes: field(f[0]!, 0, 59, 'minute'),
    hours: field(f[1]!, 0, 23, 'hour'),
    days: field(f[2]!, 1, 31, 'day of month'),
    months: field(f[3]!, 1, 12, 'month'),
    weekdays,
    anyDay: f[2] === '*',
    anyWeekday: f[4] === '*',
  };
}

function dayMatches(c: Cron, d: Date): boolean {
  const dom = c.days.has(d.getUTCDate());
  const dow = c.weekdays.has(d.getUTCDay());
  if (c.anyDay && c.anyWeekday) return true;
  if (c.anyDay) return dow;
  if (c.anyWeekday) return dom;
  return dom || dow;
}

/**
 * The first tick strictly after `after` (skipping whole months, days and hours that cannot match).
 *
 * @example
 * ```ts
 * nextCronTick(parseCron('0,15,30,45 * * * *'), new Date('2026-01-01T00:07:00Z')); // 2026-01-01T00:15:00Z
 * ```
 */
export function nextCronTick(c: Cron, after: Date): Date {
  const d = new Date(after.getTime());
  d.setUTCSeconds(0, 0);
  d.setUTCMinutes(d.getUTCMinutes() + 1);
  for (let guard = 0; guard < 100_000; guard++) {
    if (!c.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(c, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!c.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!c.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d;
  }
  throw new Error(`cron "${c.source}" never fires (e.g. 31 in a month without it)`);
}
