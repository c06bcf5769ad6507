// The first module of every Worker started by start-worker.ts. Plain
// JavaScript, because TypeScript cannot load until tsx is registered.
import { register } from 'tsx/esm/api';

// start-worker.ts appended the target file's URL to argv; take it back out.
const target = process.argv.splice(2, 1)[0];
if (target === undefined) throw new Error('tsx-bootstrap: no target file given');

register();
await import(target);
