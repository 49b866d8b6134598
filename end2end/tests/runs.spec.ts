import { test as base, type APIRequestContext, type Locator, type Page, type TestInfo } from '@playwright/test';
import { countNavigations, expect, hydrated, open, saveItsmSettings, saveSimulatorConnection, SIM } from './helpers';

// As helpers.ts's `test`, but for one answer: Run now answers 409 when a run is already
// under way, and Chromium logs every 4xx answer to a fetch as a console error. Any other
// error still fails the test.
const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        const refusedRunNow =
          message.text().includes('status of 409') && message.location().url.includes('/api/run_now');
        if (message.type() === 'error' && !refusedRunNow) errors.push(message.text());
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});

test.describe.configure({ mode: 'serial' });

/** What Run now may answer: a run started, or the one under way. Nothing else. */
const RUN_NOW_ANSWER = /^Run (\d+) (started\.|is in progress; nothing was started\.)$/;
/** The outcomes of a run that has ended. */
const ENDED = /^(succeeded|partial|failed|interrupted)$/;

async function createToken(page: Page, info: TestInfo, tag: string): Promise<string> {
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(`runs-${tag}-${info.project.name}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  return (await page.locator('#new-token').textContent())!.trim();
}

/**
 * What every test here starts from, whatever ran before it (in this file or another):
 * a connection to the simulator, one ticket per failing resource, auto-resolve off, and
 * ServiceNow brought up to date with what other tests left failing, so that the runs the
 * test starts afterwards open only the tickets of its own scan.
 */
async function prepare(page: Page, info: TestInfo, tag: string): Promise<string> {
  await saveSimulatorConnection(page, info);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, tag);
  await open(page, '/runs', info);
  await waitForEnd(page, info, await startRun(page, info));
  return token;
}

/** The resources of one test's scan: `tag` keeps each test's incidents apart. */
function resourceId(info: TestInfo, tag: string, n: number): string {
  return `res-${tag}-${info.project.name}-${n}`;
}

async function sendScan(request: APIRequestContext, info: TestInfo, tag: string, token: string) {
  const finding = (control: string, title: string, n: number, severity: string) => ({
    control: { id: control, title },
    resource: { id: resourceId(info, tag, n), name: `r${n}`, type: 'vm' },
    status: 'fail',
    severity,
  });
  const sent = await request.post('/api/v1/scans', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      schema_version: '1',
      source: `e2e-runs-${tag}-${info.project.name}`,
      scan: { id: 's1', time: new Date().toISOString() },
      findings: [finding('ctl-a', 'Control A', 1, 'high'), finding('ctl-b', 'Control B', 2, 'low')],
    },
  });
  expect(sent.status(), await sent.text()).toBe(201);
}

function runNowButton(page: Page): Locator {
  return page.locator('form.run-now button');
}

/**
 * Clicks Run now (`clicks` times in a row) and returns the run its answer names, after
 * checking the answer is one of the two allowed. With JavaScript the page stays and shows
 * the answer; without, the post is redirected back to /runs with it.
 */
async function runNow(page: Page, info: TestInfo, clicks = 1): Promise<{ id: number; started: boolean }> {
  const before = page.url();
  const answered = hydrated(info) ? page.waitForResponse((r) => r.url().includes('/api/run_now')) : null;
  if (clicks === 2) {
    await runNowButton(page).dblclick();
  } else {
    await runNowButton(page).click();
  }
  if (answered) {
    await answered;
    await expect(runNowButton(page)).toBeEnabled();
  } else {
    await expect(page).not.toHaveURL(before);
    await expect(page).toHaveURL(/\/runs\?flash=/);
    await page.waitForLoadState('load');
  }
  const notice = page.locator('.run-notice');
  await expect(notice).toHaveCount(1);
  await expect(notice).toHaveText(RUN_NOW_ANSWER);
  if (answered) {
    // Sent by the wasm, not posted by the form (which would have landed on /runs?flash=).
    await expect(page).not.toHaveURL(/flash=/);
  }
  await expect(page.getByText('This page could not load its data.')).toHaveCount(0);
  const [, id, answer] = RUN_NOW_ANSWER.exec((await notice.textContent())!.trim())!;
  return { id: Number(id), started: answer === 'started.' };
}

/**
 * Run now until it starts a run: the scheduler starts one as soon as a connection is first
 * saved (by another spec, maybe still under way), and Run now then answers "in progress".
 */
async function startRun(page: Page, info: TestInfo): Promise<number> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { id, started } = await runNow(page, info);
    if (started) return id;
    await waitForEnd(page, info, id);
  }
  throw new Error('Run now kept answering that a run is in progress');
}

function runRow(page: Page, id: number): Locator {
  return page.locator(`table.runs tr[data-run-id="${id}"]`);
}

/**
 * Waits for run `id` to end. With JavaScript the page follows it by itself; without, the
 * page is loaded again until it shows the end.
 */
async function waitForEnd(page: Page, info: TestInfo, id: number) {
  const row = runRow(page, id);
  if (hydrated(info)) {
    await expect(row).toHaveAttribute('data-outcome', ENDED, { timeout: 30_000 });
  } else {
    await expect(async () => {
      await open(page, '/runs', info);
      await expect(row).toHaveAttribute('data-outcome', ENDED, { timeout: 1_000 });
    }).toPass({ timeout: 30_000, intervals: [500, 1_000] });
  }
}

/** The short descriptions of the simulator's incidents, from its `/` page. */
async function simulatorIncidents(request: APIRequestContext): Promise<string[]> {
  const page = await request.get(`${SIM.url}/`);
  expect(page.status()).toBe(200);
  // One row per incident: number, state, opened, correlation id, short description (last).
  const rows = (await page.text()).split('<tr>').slice(1);
  const cells = (row: string) => [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]*>/g, ''));
  return rows.map(cells).filter((c) => c.length >= 5).map((c) => c[c.length - 1]);
}

test('Run now opens one incident per failing resource, and the page shows the run end', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  const tag = 'one';
  const token = await prepare(page, info, tag);
  await sendScan(request, info, tag, token);

  await open(page, '/runs', info);
  await expect(page.locator('.engine-state')).toHaveAttribute('data-connected', 'true');
  await expect(page.locator('.engine-state')).toContainText('Next scheduled run:');
  // The instance answers the run's first request 3 s late, so the run is still under way
  // when the page first lists it: with JavaScript the page must follow it to its end itself.
  const slowed = await request.post(`${SIM.url}/_sim/faults`, { data: { kind: 'delay', millis: 3_000 } });
  expect(slowed.ok(), await slowed.text()).toBe(true);
  // The preview: loaded once the page runs with JavaScript, behind a link without.
  const previewed = page.locator(`.plan-preview tr[data-group="resource ${resourceId(info, tag, 1)}"]`);
  if (!hydrated(info)) {
    await expect(previewed).toHaveCount(0);
    await page.getByRole('link', { name: 'Show what the next run would do' }).click();
  }
  await expect(previewed).toHaveAttribute('data-action', 'open');
  const navigations = countNavigations(page);
  const id = await startRun(page, info);
  await waitForEnd(page, info, id);
  if (hydrated(info)) {
    expect(navigations(), 'the page followed the run without loading again').toBe(0);
    // The run opened the ticket: the preview is worked out again when the run ends.
    await expect(previewed).toHaveAttribute('data-action', 'nothing');
  }

  const row = runRow(page, id);
  await expect(row).toHaveAttribute('data-outcome', 'succeeded');
  await expect(row.locator('[data-count="opened"]')).toHaveText('2');
  await expect(row.locator('[data-count="failed"]')).toHaveText('0');
  // The newest run is the one just started.
  await expect(page.locator('table.runs tr[data-run-id]').first()).toHaveAttribute('data-run-id', String(id));

  const incidents = await simulatorIncidents(request);
  for (const n of [1, 2]) {
    const resource = resourceId(info, tag, n);
    expect(incidents.filter((d) => d.includes(resource)), `incidents of ${resource}`).toHaveLength(1);
  }
});

test('Run now clicked twice quickly answers only "started" or "in progress", and opens nothing twice', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  const tag = 'twice';
  const token = await prepare(page, info, tag);
  await sendScan(request, info, tag, token);
  await open(page, '/runs', info);
  const first = await runNow(page, info, 2);
  const second = await runNow(page, info);
  await waitForEnd(page, info, Math.max(first.id, second.id));

  // Every run has ended, and together the runs since the double click opened this test's
  // two incidents once.
  await open(page, '/runs', info);
  await expect(page.locator('table.runs tr[data-outcome="running"]')).toHaveCount(0);
  let opened = 0;
  for (const row of await page.locator('table.runs tr[data-run-id]').all()) {
    if (Number(await row.getAttribute('data-run-id')) >= first.id) {
      opened += Number(await row.locator('[data-count="opened"]').textContent());
    }
  }
  expect(opened).toBe(2);
  const incidents = await simulatorIncidents(request);
  for (const n of [1, 2]) {
    expect(incidents.filter((d) => d.includes(resourceId(info, tag, n)))).toHaveLength(1);
  }
});
