import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { asyncInvokeSettings } from '../lib/core/async-invoke.js';
import { logger } from '../lib/core/logger.js';
import { metrics } from '../lib/core/metrics.js';
import { type Runtime, runtimeWithoutParameters } from '../lib/runtime.js';
import {
  type SweepDependencies,
  type SweepReport,
  sweepPendingUploads,
} from '../lib/validation/pending-sweep.js';
import { lambdaValidationHandoff } from '../lib/validation/validation-handoff.js';

/** The sweep's dependencies from a runtime; throws (a failed cold start) without a validator to hand files to. */
export function sweepDependencies(runtime: Runtime): SweepDependencies {
  const validator = asyncInvokeSettings(runtime.environment, runtime.environment.VALIDATOR_FUNCTION);
  if (!validator) {
    throw new Error('invalid configuration: VALIDATOR_FUNCTION is required to sweep pending uploads');
  }
  return {
    store: runtime.store,
    clock: runtime.clock,
    handOff: lambdaValidationHandoff(validator),
    sweepAfterMs: runtime.environment.PENDING_SWEEP_AFTER_SECONDS * 1000,
    landingGraceMs: runtime.limits.landingGraceMs,
  };
}

/**
 * Run on a schedule (locally by the stack's supervisor): hands the validator
 * every upload still pending a while after it was issued, whose own event
 * may be lost, and forgets the ones that can no longer land.
 */
export const createHandler = (dependencies: SweepDependencies) =>
  middy<unknown, SweepReport, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(() => sweepPendingUploads(dependencies));

export const handler = createHandler(sweepDependencies(await runtimeWithoutParameters()));
