import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Debian python with python3-hvac (not a pyenv python), or a reason it is missing. */
export function hvacPython(): { python: string } | { skip: string } {
  const python = '/usr/bin/python3';
  const missing = !existsSync(python) ? `${python} not found`
    : spawnSync(python, ['-c', 'import hvac'], { encoding: 'utf8' }).status !== 0 ? 'python3-hvac is not installed (apt-get install -y python3-hvac)' : undefined;
  if (!missing) return { python };
  if (process.env['CI'] === 'true') throw new Error(`hvac compatibility tests need ${missing}`);
  return { skip: missing };
}

/** Runs a client script (asynchronously: the server under test lives in this process) and parses its last JSON line. */
export function runPython(python: string, script: string, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 90_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} failed (${code}):\n${stderr}\n${stdout}`));
      const lines = stdout.trim().split('\n');
      try { resolve(JSON.parse(lines[lines.length - 1]!)); } catch (e) { reject(e); }
    });
  });
}
