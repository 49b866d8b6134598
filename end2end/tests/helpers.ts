import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

/**
 * Playwright's `test`, failing any test during which the page logged an error or threw:
 * a hydration mismatch or a panic in the wasm shows up there first.
 */
export const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** The admin the first-run project creates. */
export const ADMIN = 'admin';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export const GROUP = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
export const USER = 'F9E8D7C6B5A4938271605F4E3D2C1B0A';

export function hydrated(info: TestInfo): boolean {
  return info.project.use.javaScriptEnabled !== false;
}

/** Opens a page; with JavaScript, waits until the wasm has attached its handlers. */
export async function open(page: Page, path: string, info: TestInfo) {
  await page.goto(path);
  if (hydrated(info)) {
    await page.locator('body[data-hydrated="true"]').waitFor();
  }
}

/** Counts the save requests the page sends, to tell browser-side refusals apart. */
export function countSaves(page: Page): () => number {
  let saves = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/api/save_')) saves += 1;
  });
  return () => saves;
}

/** Counts the page's own loads (not the wasm's fetches): a hydrated form never causes one. */
export function countNavigations(page: Page): () => number {
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  return () => navigations;
}

/** Where the server sends a plain form post back to: the page, with its outcome's id. */
const PLAIN_POST_ANSWER = /[?&](flash|tested)=/;

/**
 * After a submit whose outcome shows either way: with JavaScript the wasm sent it and the
 * page stayed put; without, the form was posted and answered with a redirect carrying the
 * outcome. Without this a hydrated test would also pass if the wasm never ran.
 */
export async function expectSubmittedTheRightWay(page: Page, info: TestInfo) {
  if (hydrated(info)) {
    await expect(page).not.toHaveURL(PLAIN_POST_ANSWER);
  } else {
    await expect(page).toHaveURL(PLAIN_POST_ANSWER);
  }
}

// The simulator started by playwright.config.ts, with its seeded accounts.
export const SIM = {
  url: 'http://127.0.0.1:3190',
  clientId: 'sim-client',
  clientSecret: 'sim-client-secret',
  group: '477a05d153013010b846ddeeff7b1225',
  user: '6816f79cc0a8016401c5a33be04be441',
  userId: 'itsm.bridge',
  password: 'sim-password-1',
};

/**
 * Saves a complete connection to the simulator, secrets included (`clientSecret` instead of
 * the right one when given). Each test that needs a connection saves its own: tests never
 * rely on what another test, or another file, saved.
 */
export async function saveSimulatorConnection(page: Page, info: TestInfo, clientSecret = SIM.clientSecret) {
  await open(page, '/settings/connection', info);
  await page.getByLabel('ServiceNow URL').fill(SIM.url);
  await page.getByLabel('Client ID').fill(SIM.clientId);
  await page.getByLabel('Client secret').fill(clientSecret);
  await page.getByLabel('Group SYS ID').fill(SIM.group);
  await page.getByLabel('User SYS ID').fill(SIM.user);
  await page.getByLabel('User ID', { exact: true }).fill(SIM.userId);
  await page.getByLabel('Password').fill(SIM.password);
  await page.getByLabel('Status before a duplicate ticket is opened').selectOption({ label: 'Resolved' });
  await page.getByLabel('Days before a new ticket is opened').fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);
}

/** Saves all three ITSM settings, so a test starts from values it chose itself. */
export async function saveItsmSettings(
  page: Page,
  info: TestInfo,
  settings: { grouping: 'By resources' | 'By controls'; interval: string; autoResolve: boolean },
) {
  await open(page, '/settings/itsm', info);
  await page.getByLabel(settings.grouping).check();
  await page.getByLabel('Run the ticket engine every (minutes)').fill(settings.interval);
  await page.locator('#auto_resolve').setChecked(settings.autoResolve);
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);
}

/**
 * A server of its own on `port`, on a new database with no admin yet: the setup form shows
 * only there, and the project's server, whose admin the first-run project created, is left as
 * it is. Started as start-server.sh starts the project's, but from a directory of its own
 * (`target/e2e/NAME`) with the default database path, so that the page names the setup-token
 * file as a first-time administrator sees it (`data/itsm-bridge.setup-token`), not a path of
 * the tests.
 */
export async function startFreshServer(port: number, name: string) {
  const root = path.resolve(__dirname, '..', '..');
  const directory = path.join(root, 'target', 'e2e', name);
  fs.rmSync(directory, { recursive: true, force: true });
  fs.mkdirSync(directory, { recursive: true });
  const binary = process.env.ITSM_BRIDGE_BIN ?? path.join(root, 'target', 'debug', 'itsm-bridge');
  const baseURL = `http://127.0.0.1:${port}`;
  // A server left by an earlier run that was killed would answer in this one's place.
  const earlier = await fetch(`${baseURL}/healthz`).then(
    () => true,
    () => false,
  );
  expect(earlier, `port ${port} is free (a server left from an earlier run holds it)`).toBe(false);
  const server = spawn(
    binary,
    ['--listen', `127.0.0.1:${port}`, '--database-url', 'data/itsm-bridge.db', '--no-scheduler'],
    {
      cwd: directory,
      env: {
        ...process.env,
        LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, 'target', 'site'),
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
      },
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  };
  try {
    await expect(async () => {
      expect(server.exitCode, 'the server is still running').toBeNull();
      expect((await fetch(`${baseURL}/healthz`)).ok).toBe(true);
    }).toPass({ timeout: 60_000, intervals: [250, 500] });
  } catch (error) {
    await stop();
    throw error;
  }
  // Where its setup-token file is written, beside the database.
  return { baseURL, dataDir: path.join(directory, 'data'), stop };
}
