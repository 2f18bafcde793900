// The page checks an avatar against the server's configured MAX_UPLOAD_BYTES (GET /api/config), not the default the
// web client was built with: in Chromium, against an API configured with a small limit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';

const LIMIT = 5 * 1024;
type Ctx = { api: TestApi; owner: Client; browser: Browser };
const t = suite<Ctx>('web client reads the configured limits');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ MAX_UPLOAD_BYTES: String(LIMIT), UPLOAD_CHUNK_BYTES: String(8 * 1024 * 1024), UPLOAD_MAX_FILE_BYTES: String(3 * 1024 ** 3) });
  ctx.owner = await ctx.api.client().signUp('Limits Owner');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'limits', title: 'Limits' })).status, 201);
  ctx.browser = await launchBrowser();
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('GET /api/config answers the configured MAX_UPLOAD_BYTES and the video upload chunk and file sizes', async ({ api }) => {
  const r = await api.client().get('/api/config');
  assert.is(r.status, 200);
  assert.equal(r.body, { maxUploadBytes: LIMIT, uploadChunkBytes: 8 * 1024 * 1024, uploadMaxFileBytes: 3 * 1024 ** 3 });
});

t('the avatar editor shows the configured limit and refuses a larger file before uploading', async ({ api, owner, browser }) => {
  await browser.context.addCookies([...owner.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const uploads: string[] = [];
  page.on('request', (req) => req.method() === 'PUT' && req.url().endsWith('/avatar') && uploads.push(req.url()));
  await page.goto(`${api.base}/me/channels#limits`); // the channel's manager open
  const editor = page.getByTestId('avatar-editor');
  await editor.getByText('up to 5 KB').waitFor();
  await editor.getByTestId('avatar-input').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(LIMIT + 1) });
  await editor.getByText('the limit is 5 KB').waitFor();
  assert.equal(uploads, [], 'nothing was sent');
  await page.close();
});

t.run();
