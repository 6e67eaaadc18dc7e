// @ts-check
/**
 * The shape every command is written against, so commands stay free of process globals and
 * the dispatcher in main.js decides where output goes.
 *
 * @typedef {{
 *   args: import('./args.js').ParsedArgs,
 *   client: import('./client.js').Client,
 *   json: boolean,
 *   io: {
 *     stdout: import('./output.js').Stream,
 *     stderr: import('./output.js').Stream,
 *     cwd: string,
 *     env: Record<string, string | undefined>,
 *     readStdin: () => Promise<string>,
 *   },
 *   now: () => number,
 *   spin: <T>(text: string, work: () => Promise<T>) => Promise<T>,
 *   print: (jsonValue: unknown, human: string) => void,
 * }} Context
 *
 * @typedef {{
 *   name: string,
 *   summary: string,
 *   usage: string,
 *   description?: string,
 *   options: import('./args.js').OptionSpecs,
 *   run: (ctx: Context) => Promise<void>,
 * }} Command
 */

export {};
