import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per process; the service name comes from POWERTOOLS_SERVICE_NAME when deployed. */
export const logger = new Logger({ serviceName: 'backup-control-plane' });
