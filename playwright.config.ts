// The GUI's end-to-end tests (e2e/), run by `npm test` after the build. Browser downloads are
// not possible on our machines, so Playwright drives Debian's Chromium (/usr/bin/chromium,
// or PLAYWRIGHT_CHROMIUM) headless; the flags keep it from reaching for the network.
import { defineConfig } from '@playwright/test';

export const CHROMIUM = process.env.PLAYWRIGHT_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 120_000,
  workers: 1,
  forbidOnly: !!process.env.CI,
  // On CI a failed test is run once more (with its serial group), and reported as flaky if it
  // then passes: a GUI test waiting on a busy 2-core machine should not block a submission, but
  // run-all.mjs prints the flaky tests' names at the end, where they are seen.
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
