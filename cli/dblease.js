#!/usr/bin/env node
// @ts-check
// The `dblease` command. Plain JavaScript so `npx dblease` runs on any Node >= 20 with no
// build step and no dependencies; the CLI itself is in main.js.
import { main } from './main.js';

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  process.stderr.write(`dblease needs Node.js 20 or newer (this is ${process.versions.node})\n`);
  process.exit(1);
}

/** Reads all of stdin, for `dblease sql <id> --file -`. */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  readStdin,
});
