import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `make bench-ui`: the designer benchmark against a release build. Frames
// are not capped at the display rate, so a frame's interval is the work it
// took (input handling, rendering, paint) rather than the 16.7 ms vsync.
export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: '*.bench.ts',
  timeout: 180_000,
  reporter: [['line']],
  use: {
    ...base.use,
    trace: 'off',
    screenshot: 'off',
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      ...base.use!.launchOptions,
      args: [
        ...(base.use!.launchOptions!.args ?? []),
        '--disable-frame-rate-limit',
        '--disable-gpu-vsync',
      ],
    },
  },
});
