import { UsageError } from './context.js';

/** Everything on stdin, as text (for `-` arguments). */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The first line on stdin (without its line ending); stops reading as soon as it has one. */
export async function readStdinLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    const end = text.indexOf('\n');
    if (end >= 0) {
      process.stdin.pause();
      return text.slice(0, end).replace(/\r$/, '');
    }
  }
  return text.replace(/\r$/, '');
}

/** Reads a line from the terminal without echoing it; the prompt goes to stderr so stdout stays clean. */
export function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new UsageError('Interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A secret the user did not give as an argument: typed without echo on a terminal, or the first
 * line of stdin when stdin is a pipe.
 */
export async function promptSecret(prompt: string): Promise<string> {
  const value = (process.stdin.isTTY ? await readHidden(prompt) : await readStdinLine()).trim();
  if (value === '') throw new UsageError('No value given (pass it as an argument, type it at the prompt, or pipe it on stdin)');
  return value;
}
