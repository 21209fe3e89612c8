import { LocalRuntimeError } from '../local-runtime/errors.ts';

/** A test-bed error meant for the person running it (printed without a stack trace). */
export class TestbedError extends LocalRuntimeError {
  override name = 'TestbedError';
}
