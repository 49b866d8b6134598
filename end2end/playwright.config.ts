import { defineConfig } from '@playwright/test';
import path from 'node:path';

// One server per project, each on a fresh database, so the two projects cannot see each
// other's saves. `bash scripts/test` builds the server and the site first.
export const SIMULATOR_PORT = 3190;

const projects = [
  { name: 'hydrated', port: 3101, javaScriptEnabled: true },
  { name: 'no-javascript', port: 3102, javaScriptEnabled: false },
];

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Chromium lays out a date field by its own language, not by the page's locale: the
        // keyboard tests type a date's digits in en-US order (month, day, year).
        '--lang=en-US',
      ],
      env: { ...process.env, LANG: 'en_US.UTF-8', LANGUAGE: 'en_US' },
    },
    trace: 'retain-on-failure',
  },
  // Each server starts with no admin: its "first-run" project creates the admin through
  // /setup, walks sign-in and sign-out, and leaves a signed-in browser state for the rest.
  projects: projects.flatMap((p) => {
    const dataDir = path.resolve(__dirname, '..', 'target', 'e2e', p.name);
    const stateFile = path.join(dataDir, 'browser-state.json');
    const use = { baseURL: `http://127.0.0.1:${p.port}`, javaScriptEnabled: p.javaScriptEnabled };
    return [
      {
        name: `${p.name}-first-run`,
        testMatch: /first-run\.spec\.ts/,
        use,
        metadata: { dataDir, stateFile },
      },
      {
        name: p.name,
        testIgnore: /first-run\.spec\.ts/,
        dependencies: [`${p.name}-first-run`],
        use: { ...use, storageState: stateFile },
      },
    ];
  }),
  webServer: [
    ...projects.map((p) => ({
      command: `bash ./start-server.sh ${p.port} ${p.name}`,
      url: `http://127.0.0.1:${p.port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore' as const,
      stderr: 'pipe' as const,
    })),
    // The ServiceNow simulator that Test connection talks to.
    {
      command: `${path.resolve(__dirname, '..', 'target', 'debug', 'servicenow-sim')} --listen 127.0.0.1:${SIMULATOR_PORT}`,
      url: `http://127.0.0.1:${SIMULATOR_PORT}/`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore' as const,
      stderr: 'pipe' as const,
    },
  ],
});
