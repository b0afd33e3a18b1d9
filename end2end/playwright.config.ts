import { defineConfig } from '@playwright/test';
import path from 'node:path';

// The server is started by global-setup.ts on a fresh temporary database and
// a free port; its address reaches the tests through STEPWISE_URL.
export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['./summary-reporter.ts']],
  use: {
    baseURL: process.env.STEPWISE_URL,
    // signed in as the admin (global-setup.ts)
    storageState: path.join(__dirname, '.auth', 'admin.json'),
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
