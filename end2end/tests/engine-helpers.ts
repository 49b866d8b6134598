import { test as base, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import { expect, open, SIM } from './helpers';

/**
 * As helpers.ts's `test`, but for two answers: Run now answers 409 when a run is already
 * under way, and Chromium logs every 4xx answer to a fetch as a console error; and the
 * simulator, whose incident page a ticket's link opens, has no favicon (404). Any other
 * error still fails the test.
 */
export const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        const refusedRunNow =
          message.text().includes('status of 409') && message.location().url.includes('/api/run_now');
        const simulatorFavicon = message.location().url === `${SIM.url}/favicon.ico`;
        if (message.type() === 'error' && !refusedRunNow && !simulatorFavicon) errors.push(message.text());
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});

/** Creates an API token named after the test and the project; returns it. */
export async function createToken(page: Page, info: TestInfo, tag: string): Promise<string> {
  return createNamedToken(page, info, `${tag}-${info.project.name}-${Date.now()}`);
}

/** Creates an API token named `name` (limited to `source` if given); returns it. */
export async function createNamedToken(page: Page, info: TestInfo, name: string, source = ''): Promise<string> {
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(name);
  if (source) await page.getByLabel('Source (optional)').fill(source);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  return (await page.locator('#new-token').textContent())!.trim();
}

/** Sends a native scan of `source` with one failing finding per resource. */
export async function sendScan(request: APIRequestContext, token: string, source: string, resources: string[]) {
  const sent = await request.post('/api/v1/scans', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      schema_version: '1',
      source,
      scan: { id: `scan-${Date.now()}`, time: new Date().toISOString() },
      findings: resources.map((id, n) => ({
        control: { id: 'ctl-e2e', title: 'Control of the end-to-end tests' },
        resource: { id, name: `r${n}`, type: 'vm' },
        status: 'fail',
        severity: 'high',
      })),
    },
  });
  expect(sent.status(), await sent.text()).toBe(201);
}

const RUN_NOW_ANSWER = /^Run (\d+) (started\.|is in progress; nothing was started\.)$/;
const ENDED = /^(succeeded|partial|failed|interrupted)$/;

/**
 * Run now from the Runs page until it starts a run (one under way is waited out first),
 * then waits on the run's own page until it has ended; returns its id.
 */
export async function runToEnd(page: Page, info: TestInfo): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await open(page, '/runs', info);
    await page.locator('form.run-now button').click();
    const notice = page.locator('.run-notice');
    await expect(notice).toHaveText(RUN_NOW_ANSWER);
    const [, id, answer] = RUN_NOW_ANSWER.exec((await notice.textContent())!.trim())!;
    await expect(async () => {
      await open(page, `/runs/${id}`, info);
      await expect(page.locator('.run-summary')).toHaveAttribute('data-outcome', ENDED, { timeout: 1_000 });
    }).toPass({ timeout: 60_000, intervals: [500, 1_000] });
    if (answer === 'started.') return Number(id);
  }
  throw new Error('Run now kept answering that a run is in progress');
}
