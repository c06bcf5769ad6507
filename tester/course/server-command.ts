import { bundle } from '../../shared/threads/bundle.ts';

// How `npm start` and `npm run step -- NN` run a step's server.
//
// Step 06, the complete server, runs from a plain-JavaScript bundle of its
// server.ts (shared/threads/bundle.ts, rebuilt whenever a source file
// changes): a Node process that loads its ~45 modules through tsx spends
// 0.5-1 s on that before it runs a line, which was most of step 06's
// restart time (steps/06-worker-pool/README.md, *The disk after 5 million
// SETs*). Stack traces still name the .ts files and their lines (an inline
// source map, --enable-source-maps). Steps 01-05 run through tsx, as their
// READMEs show.

const BUNDLED_STEPS = new Set(['06-worker-pool']);

/** Node's arguments (before the server's own options) that run `serverFile` of step `stepName`. */
export function serverArgv(stepName: string, serverFile: string): string[] {
  if (!BUNDLED_STEPS.has(stepName)) return ['--import', 'tsx', serverFile];
  return ['--enable-source-maps', bundle(serverFile, { sourceMap: true })];
}
