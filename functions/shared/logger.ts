import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from './ports';

/** One logger per process; the service name comes from POWERTOOLS_SERVICE_NAME when deployed. */
export const logger = new Logger({ serviceName: 'backup-control-plane' });

/** The flows' Log port, writing through the Powertools logger. */
export const logPort: Log = {
  info: (message, extra = {}) => logger.info(message, extra),
  warn: (message, extra = {}) => logger.warn(message, extra),
};
