import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Starts the real `stepwise` binary (built by `cargo leptos build`) on port 0
// with a new SQLite file, waits until it reports its address, and stops it
// afterwards.
export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const bin = process.env.STEPWISE_BIN || path.join(root, 'target', 'debug', 'stepwise');
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run \`cargo leptos build\` (make test does) first`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-e2e-'));
  const server = spawn(
    bin,
    [
      'serve',
      '--listen', '127.0.0.1:0',
      '--database-url', `sqlite://${path.join(dir, 'e2e.db')}`,
      '--site-root', path.join(root, 'target', 'site'),
    ],
    { cwd: root, env: { ...process.env, STEPWISE_LOG: 'info,tower_http=warn', STEPWISE_LOG_FORMAT: 'text' }, stdio: ['ignore', 'inherit', 'pipe'] },
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
  process.env.STEPWISE_URL = url;
  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
}
