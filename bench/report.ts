import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Machine {
  cpus: string;
  cores: number;
  memory_gib: number;
  node: string;
  postgres: string;
  platform: string;
}

export function machine(postgresVersion: string): Machine {
  return {
    cpus: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: postgresVersion,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** Writes one benchmark's figures as JSON under bench/results/ and returns the file's path. */
export async function writeResult(name: string, result: object): Promise<string> {
  const dir = path.resolve('bench/results');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await fs.writeFile(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}
