import * as z from '../../core/zod.js';

// The input schemas of the routes on usage (what an input schema is: ./paths.ts).

/** GET /usage: no parameters; unknown query parameters are refused. */
export const getUsageInput = z.object({ query: z.strictObject({}) });
