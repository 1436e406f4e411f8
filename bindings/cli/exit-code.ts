/**
 * How a tool's work becomes its exit code: the code the work returns, or 1 with the error logged (at the
 * reference's error level) when the work fails with an `InTotoError`. Anything else is a bug and goes on to
 * `runTool` (common.ts), which reports it as an internal error. The recording tools end through
 * `recordingOutcome` (common.ts), which adds the progress line and the "Storing ..." message to the same rule.
 */
import { InTotoError } from '../errors.js';

export async function exitCodeOf(log: { error(error: unknown): void }, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    log.error(error);
    return 1;
  }
}
