/** Organizations account states in which an account is not onboarded (it is skipped). */
const INACTIVE = new Set(['SUSPENDED', 'PENDING_CLOSURE', 'CLOSED']);

export function isInactive(status: string | undefined): boolean {
  return status !== undefined && INACTIVE.has(status);
}
