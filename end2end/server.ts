import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(__dirname, '..');
export const bin = process.env.STEPWISE_BIN || path.join(root, 'target', 'debug', 'stepwise');
export const PASSWORD = 'e2e-password-123';

export interface Running {
  url: string;
  dbUrl: string;
  stop: () => Promise<void>;
}

/** Runs a `stepwise` command (user/token create) against `dbUrl`; returns stdout. */
export function stepwise(args: string[], dbUrl: string, env: Record<string, string> = {}): string {
  return execFileSync(bin, [...args, '--database-url', dbUrl], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();
}

/**
 * Starts the real `stepwise` binary (built by `cargo leptos build`) on port 0
 * with a new SQLite file; `prepare` may create users and tokens first.
 */
export async function startServer(
  prepare?: (dbUrl: string) => void,
  on?: { dbUrl: string; env?: Record<string, string> },
): Promise<Running> {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run \`cargo leptos build\` (make test does) first`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-e2e-'));
  const dbUrl = on?.dbUrl ?? `sqlite://${path.join(dir, 'e2e.db')}`;
  prepare?.(dbUrl);
  const server: ChildProcess = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--database-url', dbUrl, '--site-root', path.join(root, 'target', 'site'),
     // the stand-in services on this server's own (loopback) address
     '--demo', '--allow-hosts', '127.0.0.1',
     // alert rules checked every second, so a test sees one fire
     '--alerts-every-ms', '1000',
     // people told of approval items within a fraction of a second
     '--notify-every-ms', '300'],
    { cwd: root, env: { ...process.env, STEPWISE_LOG: 'info,tower_http=warn', STEPWISE_LOG_FORMAT: 'text', ...on?.env }, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${seen}`)), 30_000);
    server.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (process.env.STEPWISE_E2E_LOG) process.stderr.write(text);
      seen += text;
      const m = seen.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${seen}`));
    });
  });
  return {
    url,
    dbUrl,
    stop: async () => {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway PostgreSQL cluster (scripts/pg.sh) for tests of several processes. */
export function startPostgres(): { url: string; stop: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-e2e-pg-'));
  const url = execFileSync(path.join(root, 'scripts', 'pg.sh'), ['start', dir], { encoding: 'utf8' }).trim().split('\n').pop()!;
  return { url, stop: () => execFileSync(path.join(root, 'scripts', 'pg.sh'), ['stop', dir]) };
}
