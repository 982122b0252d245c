import { UserError } from '../../lambda/logic/errors';
import { OVERDUE_ALERT_DELAY_MS, alertTimeOf } from '../../lambda/logic/expiry-alert';

// When an expiry alert fires, against fixed clocks.

const NOW = Date.parse('2026-06-01T12:00:00.000Z');

test.each([
  ['a week ahead', '2026-09-01T08:30:15.000Z', String(7 * 86_400), 'at(2026-08-25T08:30:15)'],
  ['milliseconds rounded down, never later than asked', '2026-09-01T08:30:15.999Z', '60', 'at(2026-09-01T08:29:15)'],
  ['a date without milliseconds', '2026-09-01T00:00:00Z', '3600', 'at(2026-08-31T23:00:00)'],
  ['across a year', '2027-01-01T00:00:30.000Z', '60', 'at(2026-12-31T23:59:30)'],
])('GIVEN %s THEN the alert is at the expiry less the lead, in UTC', (_, expirationDate, lead, expected) => {
  const { ScheduleExpression, AlertTime } = alertTimeOf({ ExpirationDate: expirationDate, LeadSeconds: lead }, NOW);

  expect(ScheduleExpression).toBe(expected);
  expect(AlertTime).toBe(`${expected.slice(3, -1)}.000Z`);
});

test.each([
  ['already past', '2026-06-03T12:00:00.000Z', String(7 * 86_400)],
  ['past the expiry itself', '2026-05-01T00:00:00.000Z', '60'],
  ['due within the delay', new Date(NOW + OVERDUE_ALERT_DELAY_MS + 30_000).toISOString(), '60'],
])('GIVEN an alert %s THEN it comes the delay after now', (_, expirationDate, lead) => {
  expect(alertTimeOf({ ExpirationDate: expirationDate, LeadSeconds: lead }, NOW).ScheduleExpression).toBe('at(2026-06-01T12:05:00)');
});

test('GIVEN an alert just beyond the delay THEN it keeps its own time', () => {
  const expiry = new Date(NOW + OVERDUE_ALERT_DELAY_MS + 61_000).toISOString();

  expect(alertTimeOf({ ExpirationDate: expiry, LeadSeconds: '60' }, NOW).ScheduleExpression).toBe('at(2026-06-01T12:05:01)');
});

test.each([
  [{ LeadSeconds: '60' }, /^The credential has no expiration date/],
  [{ ExpirationDate: '', LeadSeconds: '60' }, /^The credential has no expiration date/],
  [{ ExpirationDate: '2026-13-01T00:00:00Z', LeadSeconds: '60' }, /^ExpirationDate '2026-13-01T00:00:00Z' is not an ISO 8601 date/],
  [{ ExpirationDate: '2026-06-01 00:00:00', LeadSeconds: '60' }, /^ExpirationDate '2026-06-01 00:00:00' is not/],
  [{ ExpirationDate: '2026-06-01T00:00:00+02:00', LeadSeconds: '60' }, /is not an ISO 8601 date in UTC/],
  [{ ExpirationDate: '2026-09-01T00:00:00Z' }, /^LeadSeconds 'undefined' is not/],
  [{ ExpirationDate: '2026-09-01T00:00:00Z', LeadSeconds: '59' }, /^LeadSeconds '59' is not a whole number of seconds of at least 60$/],
  [{ ExpirationDate: '2026-09-01T00:00:00Z', LeadSeconds: '60.5' }, /^LeadSeconds '60.5'/],
  [{ ExpirationDate: '2026-09-01T00:00:00Z', LeadSeconds: '1e6' }, /^LeadSeconds '1e6'/],
])('GIVEN %j THEN a UserError names the bad value', (props, message) => {
  expect(() => alertTimeOf(props, NOW)).toThrow(UserError);
  expect(() => alertTimeOf(props, NOW)).toThrow(message);
});
