import * as z from 'zod/mini';
import english from 'zod/v4/locales/en.js';

/*
 * zod's tree-shakable entry point, for every schema a function parses at run
 * time: a bundle takes only the schemas and checks it uses, and building a
 * schema attaches no methods, so a cold start pays a fraction of what zod's
 * classic API costs. zod/mini carries no messages of its own; English ones,
 * the same the classic API gives, are set here once for every importer.
 */
z.config(english());

export * from 'zod/mini';
