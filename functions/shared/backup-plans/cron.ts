import { DEFAULT_TIMEZONE } from './values';

/** AWS Backup's cron() schedules: their syntax, plain-language description, and longest gap. */

// ---------------------------------------------------------------------------------------------
// cron(minutes hours day-of-month month day-of-week year), as EventBridge and AWS Backup read it
// ---------------------------------------------------------------------------------------------

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Forms beyond numbers, ranges, lists and steps (L, W, #). */
  special?: RegExp;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, special: /^(L|LW|([1-9]|[12]\d|3[01])W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    special: /^(L|[1-7]L|[1-7]#[1-5]|(SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/,
  },
  { name: 'year', min: 1970, max: 2199 },
];

function cronValue(token: string, field: CronField): number | undefined {
  const index = field.names?.indexOf(token.toUpperCase()) ?? -1;
  // Names count from 1: JAN is month 1, SUN is day 1.
  const n = index >= 0 ? index + 1 : /^\d+$/.test(token) ? Number(token) : undefined;
  return n !== undefined && n >= field.min && n <= field.max ? n : undefined;
}

function cronFieldProblem(value: string, field: CronField): string | undefined {
  const bad = `${field.name} field "${value}" is not valid (${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : ''}, ",", "-", "*", "/")`;
  if (value === '*') return undefined;
  if (field.special?.test(value.toUpperCase())) return undefined;
  for (const part of value.split(',')) {
    const [range, step, ...extra] = part.split('/');
    if (extra.length || range === undefined) return bad;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return bad;
    if (range === '*') continue;
    const ends = range.split('-');
    if (ends.length > 2 || ends.some((end) => cronValue(end, field) === undefined)) return bad;
  }
  return undefined;
}

function cronFields(expression: string): string[] | undefined {
  const m = /^cron\((.*)\)$/.exec(expression.trim());
  return m ? m[1]!.trim().split(/\s+/) : undefined;
}

/** Why EventBridge would refuse this cron(...) expression (fields, "?"), or undefined. */
function cronSyntaxProblem(expression: string): string | undefined {
  const fields = cronFields(expression);
  if (!fields) {
    return 'must be cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 5 ? * * *)';
  }
  if (fields.length !== 6) {
    return `must have 6 fields, cron(minutes hours day-of-month month day-of-week year); got ${fields.length} in ${expression}`;
  }
  for (const [i, field] of CRON_FIELDS.entries()) {
    const value = fields[i]!;
    if (value === '?' && (field.name === 'day-of-month' || field.name === 'day-of-week')) continue;
    const problem = cronFieldProblem(value, field);
    if (problem) return `${problem} in ${expression}`;
  }
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return `exactly one of day-of-month and day-of-week must be "?" in ${expression}`;
  }
  return undefined;
}

/** Why AWS Backup would refuse this schedule expression, or undefined when it is fine. */
export function cronProblem(expression: string): string | undefined {
  if (/^rate\(/.test(expression.trim())) {
    return 'AWS Backup takes cron(...) expressions only, not rate(...)';
  }
  const syntax = cronSyntaxProblem(expression);
  if (syntax) return syntax;
  const minutes = cronFields(expression)![0]!;
  if (!/^\d+$/.test(minutes)) {
    return `the minutes field must be one number: AWS Backup runs a rule at most once an hour; got "${minutes}" in ${expression}`;
  }
  return undefined;
}

/**
 * Why an EventBridge schedule rule would refuse this expression (the deployment would fail), or
 * undefined: rate(value unit), the unit singular for 1 and plural otherwise, or cron(...).
 */
export function scheduleProblem(expression: string): string | undefined {
  const text = expression.trim();
  const rate = /^rate\((.*)\)$/.exec(text);
  if (rate) {
    const m = /^\s*([1-9]\d*)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(rate[1]!);
    if (!m) {
      return `must be rate(value unit) with a positive whole value and minute(s), hour(s) or day(s), e.g. rate(1 day); got ${expression}`;
    }
    const singular = m[1] === '1';
    if (singular !== !m[2]!.endsWith('s')) {
      return `takes "${singular ? m[2]!.replace(/s$/, '') : `${m[2]}s`}" with ${m[1]}: rate(${m[1]} ${singular ? m[2]!.replace(/s$/, '') : `${m[2]}s`}); got ${expression}`;
    }
    return undefined;
  }
  if (!/^cron\(/.test(text)) {
    return `must be an EventBridge schedule: rate(...) or cron(...); got ${expression}`;
  }
  return cronSyntaxProblem(text);
}

/** Every value a numeric field takes, or undefined for forms this reader does not expand. */
function expand(value: string, field: CronField): number[] | undefined {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const [range, step] = part.split('/');
    let from = field.min;
    let to = field.max;
    if (range !== '*') {
      const [a, b] = range!.split('-');
      const start = cronValue(a!, field);
      const end = b === undefined ? (step === undefined ? start : field.max) : cronValue(b, field);
      if (start === undefined || end === undefined) return undefined;
      from = start;
      to = end;
    }
    for (let n = from; n <= to; n += step ? Number(step) : 1) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

const two = (n: number) => String(n).padStart(2, '0');

function describeHours(hours: number[], minute: number, zone: string): string {
  const time = (h: number) => `${two(h)}:${two(minute)}`;
  if (hours.length === 24) return minute === 0 ? 'every hour' : `every hour at :${two(minute)}`;
  const step = hours.length > 1 ? hours[1]! - hours[0]! : 0;
  const even = hours.length > 1 && hours.every((h, i) => h === hours[0]! + i * step);
  if (even && step > 1 && hours[0]! < step && hours.length * step === 24) {
    const offset = hours[0] !== 0 || minute !== 0;
    return `every ${step} hours${offset ? ` from ${time(hours[0]!)} ${zone}` : ''}`;
  }
  if (even && step === 1 && hours.length > 2) {
    return `every hour from ${time(hours[0]!)} to ${time(hours[hours.length - 1]!)} ${zone}`;
  }
  return `at ${hours.map(time).join(', ')} ${zone}`;
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];

function describeDaysOfWeek(value: string): string | undefined {
  const v = value.toUpperCase();
  const field = CRON_FIELDS[4]!;
  const nth = /^(\w+)#([1-5])$/.exec(v);
  if (nth) {
    const day = cronValue(nth[1]!, field);
    return day === undefined
      ? undefined
      : `on the ${ORDINALS[Number(nth[2]) - 1]} ${DAY_NAMES[day - 1]} of the month`;
  }
  const last = /^(\w+)L$/.exec(v);
  if (last) {
    const day = cronValue(last[1]!, field);
    return day === undefined ? undefined : `on the last ${DAY_NAMES[day - 1]} of the month`;
  }
  const days = expand(v, field);
  if (!days) return undefined;
  if (days.join() === '2,3,4,5,6') return 'on weekdays';
  if (days.length === 1) return `weekly on ${DAY_NAMES[days[0]! - 1]}`;
  return `every ${days.map((d) => DAY_NAMES[d - 1]).join(', ')}`;
}

function describeDaysOfMonth(value: string): string | undefined {
  const v = value.toUpperCase();
  if (v === 'L') return 'on the last day';
  if (v === 'LW') return 'on the last weekday';
  const nearest = /^(\d+)W$/.exec(v);
  if (nearest) return `on the weekday nearest day ${nearest[1]}`;
  const days = expand(v, CRON_FIELDS[2]!);
  if (!days) return undefined;
  return `on day${days.length > 1 ? 's' : ''} ${days.join(', ')}`;
}

/** Human words for a cron expression: "daily at 05:00 UTC", "every 4 hours", ... */
export function describeSchedule(expression: string, timezone: string = DEFAULT_TIMEZONE): string {
  const fallback = `on the schedule ${expression} (${timezone})`;
  if (cronProblem(expression)) return fallback;
  const [minutes, hoursField, dayOfMonth, month, dayOfWeek, year] = cronFields(expression)!;
  const hours = expand(hoursField!, CRON_FIELDS[1]!);
  if (!hours) return fallback;
  const time = describeHours(hours, Number(minutes), timezone);
  const every = (d: string) => d === '*' || d === '?';
  const months = month === '*' ? undefined : expand(month!, CRON_FIELDS[3]!);
  if (month !== '*' && !months) return fallback;
  const monthText = months?.map((m) => MONTH_NAMES[m - 1]).join(', ');
  let when: string;
  if (every(dayOfMonth!) && every(dayOfWeek!)) {
    const daily = time.startsWith('at ') ? `daily ${time}` : time;
    when = monthText ? `${daily} in ${monthText}` : daily;
  } else if (!every(dayOfWeek!)) {
    const days = describeDaysOfWeek(dayOfWeek!);
    if (!days) return fallback;
    when = `${days}${monthText ? ` in ${monthText}` : ''} ${time}`;
  } else {
    const days = describeDaysOfMonth(dayOfMonth!);
    if (!days) return fallback;
    if (!months) when = `monthly ${days} ${time}`;
    else if (months.length === 1) when = `yearly ${days} of ${monthText} ${time}`;
    else when = `${days} of ${monthText} ${time}`;
  }
  return year === '*' ? when : `${when}, in ${year}`;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The largest gap between consecutive values on a cycle of `period` (e.g. hours of a day). */
function largestGap(values: readonly number[], period: number): number {
  if (values.length === 0) return period;
  const sorted = [...values].sort((a, b) => a - b);
  let gap = sorted[0]! + period - sorted[sorted.length - 1]!;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}

/**
 * The longest time between two runs of a cron schedule, rounded up where the calendar varies (a
 * monthly rule counts 31 days, one restricted to some months a year). Undefined for an
 * expression this reader cannot expand. Coverage uses it to tell a late backup from a due one.
 */
export function longestIntervalMs(expression: string): number | undefined {
  if (cronProblem(expression)) return undefined;
  const [, hoursField, dayOfMonth, month, dayOfWeek] = cronFields(expression)!;
  if (month !== '*') return 366 * DAY_MS;
  const every = (d: string) => d === '*' || d === '?';
  if (!every(dayOfWeek!)) {
    const days = expand(dayOfWeek!.toUpperCase(), CRON_FIELDS[4]!);
    // "#" and "L" forms run once a month.
    return days ? largestGap(days, 7) * DAY_MS : 31 * DAY_MS;
  }
  if (!every(dayOfMonth!)) {
    const days = expand(dayOfMonth!, CRON_FIELDS[2]!);
    return days ? Math.max(largestGap(days, 31), 1) * DAY_MS : 31 * DAY_MS;
  }
  const hours = expand(hoursField!, CRON_FIELDS[1]!);
  return hours ? largestGap(hours, 24) * HOUR_MS : undefined;
}
