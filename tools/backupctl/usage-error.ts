/** Bad arguments on the command line (exit 2, "backupctl: usage: ..."), not a bad configuration. */
export class UsageError extends Error {
  override name = 'UsageError';
}
