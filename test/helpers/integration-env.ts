import './env';
import { useLocalAwsEnvironment } from '../../tools/sandbox/local-aws';

// Every SDK client in the test, the handler's included, talks to the run's moto.
const endpoint = process.env.LOCAL_AWS_ENDPOINT;
if (!endpoint)
  throw new Error('LOCAL_AWS_ENDPOINT is not set: run through the integration project');
useLocalAwsEnvironment(endpoint);
