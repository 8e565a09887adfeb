#!/usr/bin/env node
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

// The bundle (`npm run build`) starts much faster than the ~900 modules it is made of.
const bundle = new URL('../dist/bundle/main.mjs', import.meta.url);
const { main } = await import(existsSync(bundle) ? bundle.href : '../dist/cli/main.js');

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`flotilla: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
