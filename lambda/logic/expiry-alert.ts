import { UserError } from './errors';
import type { ExpiryAlertAttributes, ExpiryAlertProperties } from '../../src/handler-contract';

// When an expiry alert fires: pure, against the clock it is given.

/**
 * How far ahead of now an overdue alert is put. CloudFormation creates or updates the schedule right after the alert
 * resource answers; a time already past when the schedule is written might be refused or never fire (Scheduler's
 * documentation says neither), so an overdue alert comes a few minutes late instead.
 */
export const OVERDUE_ALERT_DELAY_MS = 5 * 60_000;

/** The alert's time, `LeadSeconds` ahead of `ExpirationDate`, or just ahead of `now` when that is already past. */
export function alertTimeOf(props: Partial<ExpiryAlertProperties>, now: number): ExpiryAlertAttributes {
  const { ExpirationDate: expiration, LeadSeconds: lead } = props;
  if (!expiration) {
    throw new UserError('The credential has no expiration date, so there is nothing to alert on: onExpiring needs an API key '
      + 'with expiresAfter');
  }
  // IAM's dates as the handler answers them (Date.toISOString): anything else did not come from the credential. Date.parse
  // rolls an impossible day over (February 30 is March 2): the date must read back as it was written.
  const expires = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(expiration) ? Date.parse(expiration) : NaN;
  if (Number.isNaN(expires) || new Date(expires).toISOString().slice(0, 19) !== expiration.slice(0, 19)) {
    throw new UserError(`ExpirationDate '${expiration}' is not an ISO 8601 date in UTC (e.g. 2026-03-01T12:00:00.000Z)`);
  }
  if (!lead || !/^\d{1,12}$/.test(lead) || Number(lead) < 60) {
    throw new UserError(`LeadSeconds '${lead}' is not a whole number of seconds of at least 60`);
  }
  const at = Math.max(expires - Number(lead) * 1000, now + OVERDUE_ALERT_DELAY_MS);
  // Whole seconds, rounded down: Scheduler's at() has no fraction, and an alert must not come later than asked.
  const time = new Date(Math.floor(at / 1000) * 1000).toISOString();
  return { ScheduleExpression: `at(${time.slice(0, 19)})`, AlertTime: time };
}
