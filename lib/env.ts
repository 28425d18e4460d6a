import { loadEnvironment } from './config.js';

/** This function's configuration, parsed and frozen at cold start. */
export const env = loadEnvironment(process.env);
