#!/usr/bin/env node
// The command line: `npx tfjs-recurrent <command>`. The code lives in dist/cli.js (npm run build).
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    console.error('tfjs-recurrent: dist/cli.js is missing; run `npm run build` first (npm start does it for you).');
    process.exit(1);
  }
  throw err;
});
