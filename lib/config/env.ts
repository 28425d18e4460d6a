import { loadEnvironment } from './environment.js';
import { parseUploadRules } from './upload-rules.js';

/** This function's configuration, parsed and frozen at cold start. */
export const env = loadEnvironment(process.env);

/** The upload rules in force, from `UPLOAD_RULES` or the defaults. */
export const uploadRules = parseUploadRules(env.UPLOAD_RULES);
