// docker-compose.yml cannot run here (no Docker engine); these tests keep it consistent with the code it runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_KEYS, loadConfig } from '../shared/config.ts';

// merge: the services share their environment through a YAML anchor and `<<:` (docker compose merges it)
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true });
/** Resolves ${VAR:-default} and ${VAR:?msg} the way docker compose does, with these values set. */
const interpolate = (v: string, env: Record<string, string>) =>
  v.replace(/\$\{(\w+)(?::[-?]([^}]*))?\}/g, (_m, name: string, rest?: string) => env[name] ?? (_m.includes(':-') ? rest ?? '' : ''));
const env = { PUBLIC_IP: '203.0.113.7', POSTGRES_PASSWORD: 'pw', BETTER_AUTH_SECRET: 's'.repeat(40), MINIO_ROOT_PASSWORD: 'm', MEILI_MASTER_KEY: 'k', PUBLIC_URL: 'https://live.example.com' };

/** Variables the runtimes read themselves, not Glint's config: Deno's module cache. */
const RUNTIME_KEYS = ['DENO_DIR'];
const isRead = (key: string) => (CONFIG_KEYS as string[]).includes(key) || RUNTIME_KEYS.includes(key);

/** A service's config as its environment in docker-compose resolves (every variable one something reads). */
const resolve = (service: string) => {
  const e = compose.services[service].environment as Record<string, string>;
  for (const key of Object.keys(e)) assert.ok(isRead(key), `${service}: ${key} is read by shared/config.ts (or the runtime)`);
  return loadConfig(Object.fromEntries(Object.entries(e).map(([k, v]) => [k, interpolate(String(v), env)])));
};

const t = suite('docker-compose.yml');

t('runs the production stack: Postgres, Redis, MinIO, Meilisearch, Caddy, the API, the SFU and the recorder', () => {
  for (const s of ['postgres', 'redis', 'minio', 'meilisearch', 'caddy', 'api', 'sfu', 'recorder', 'worker']) assert.ok(compose.services[s], `service ${s}`);
});

t('the worker transcodes VoDs as its own service: same database, bus and store as the api, which (on Deno) never does', () => {
  const api = resolve('api');
  const worker = resolve('worker');
  assert.equal(compose.services.worker.command, ['node', '.build/worker.mjs']);
  assert.ok(readFileSync('scripts/build-server.mjs', 'utf8').includes("worker: 'server/worker.ts'"), 'the image builds that entry point');
  assert.match(JSON.parse(readFileSync('package.json', 'utf8')).scripts.worker, /node \.build\/worker\.mjs$/, '`npm run worker` runs it');
  assert.ok(worker.databaseUrl, 'server/worker.ts refuses to start without DATABASE_URL');
  assert.equal([worker.databaseUrl, worker.redisUrl, worker.redisPrefix, worker.s3?.bucket, worker.mediaDir], [api.databaseUrl, api.redisUrl, api.redisPrefix, api.s3?.bucket, api.mediaDir]);
  assert.is(compose.services.api.command.at(-1), 'server/deno.ts', 'the api runs on Deno, which registers no transcoder');
  assert.ok(!readFileSync('server/deno-api.ts', 'utf8').includes('Transcoder'), 'the Deno API wires no transcoder');
  assert.is(worker.transcode.nice, 10, 'FFmpeg below live ingest');
  assert.is(compose.services.worker.depends_on.api.condition, 'service_healthy', 'after the api has migrated the database');
});

t('the hybrid: the api on Deno forwarding live media to the sfu on Node; the services meet over Redis and the database', () => {
  const api = resolve('api');
  const sfu = resolve('sfu');
  const command = compose.services.api.command as string[];
  assert.equal(command.slice(0, 2), ['node_modules/.bin/deno', 'run'], 'the api runs on Deno, from the npm package the image installs');
  assert.is(command.at(-1), 'server/deno.ts');
  assert.equal(JSON.parse(readFileSync('package.json', 'utf8')).scripts['start:deno'].split(' && ').at(-1), `deno ${command.slice(1).join(' ')}`, 'with the permissions `npm run start:deno` gives it');
  assert.ok(JSON.parse(readFileSync('package.json', 'utf8')).dependencies.deno, 'deno is a dependency, so `npm ci --omit=dev` in the image installs it');
  assert.match(interpolate(compose.services.api.environment.DENO_DIR, env), /^\/data\//, "Deno's module cache in the node user's volume");
  assert.is(api.sfuUrl, `http://sfu:${sfu.port}`, 'the api forwards WHIP/WHEP to the sfu service');
  assert.equal(compose.services.sfu.command, ['node', '.build/sfu.mjs']);
  assert.ok(readFileSync('scripts/build-server.mjs', 'utf8').includes("sfu: 'server/sfu.ts'"), 'the image builds that entry point');
  assert.ok(sfu.redisUrl && sfu.databaseUrl, 'server/sfu.ts refuses to start without REDIS_URL and DATABASE_URL');
  assert.equal([sfu.redisUrl, sfu.redisPrefix, sfu.databaseUrl, sfu.authSecret], [api.redisUrl, api.redisPrefix, api.databaseUrl, api.authSecret], 'one bus, one database, one session secret');
  assert.is(sfu.recorder.embedded, false, 'the recorder service records');
  assert.ok(sfu.trustedProxies.list.has('172.18.0.5'), "the api's and Caddy's addresses on the compose network are trusted to forward the viewer's");
  assert.is(compose.services.sfu.depends_on.api.condition, 'service_healthy', 'after the api has migrated the database');
  assert.match(compose.services.sfu.healthcheck.test.join(' '), new RegExp(`127\\.0\\.0\\.1:${sfu.port}/readyz`));
  assert.is(compose.services.caddy.environment.SFU_UPSTREAM, `sfu:${sfu.port}`, 'Caddy sends WHIP/WHEP to the sfu directly');
  // the node registry names it where the api reaches it; a SIGTERM's drain ends before Docker's SIGKILL
  assert.is(sfu.sfuNode.url, `http://sfu:${sfu.port}`);
  const grace = /^(\d+)s$/.exec(compose.services.sfu.stop_grace_period ?? '');
  assert.ok(grace && Number(grace[1]) * 1000 > sfu.sfuNode.drainGraceMs, `stop_grace_period (${compose.services.sfu.stop_grace_period}) outlasts SFU_DRAIN_GRACE_MS`);
});

t('the recorder runs as its own service: neither the api nor the sfu records, the recorder reaches the SFU over Redis and gets RTP at its own address', () => {
  const api = resolve('api');
  const recorder = resolve('recorder');
  assert.is(api.recorder.embedded, false, 'the api leaves recording to the recorder service');
  assert.is(recorder.recorder.rtpHost, 'recorder', 'the SFU sends RTP to the recorder service by its compose name');
  assert.ok(recorder.redisUrl && recorder.databaseUrl, 'server/recorder.ts refuses to start without REDIS_URL and DATABASE_URL');
  assert.is(recorder.redisUrl, api.redisUrl);
  assert.is(recorder.redisPrefix, api.redisPrefix, 'the same bus channels');
  assert.is(recorder.databaseUrl, api.databaseUrl);
  assert.equal(recorder.s3, api.s3, 'the same object store the api serves HLS from');
  assert.equal(compose.services.recorder.command, ['node', '.build/recorder.mjs']);
  assert.ok(readFileSync('scripts/build-server.mjs', 'utf8').includes("recorder: 'server/recorder.ts'"), 'the image builds that entry point');
  assert.is(compose.services.recorder.depends_on.api.condition, 'service_healthy', 'after the api has migrated the database');
});

t("every variable the api gets is one Glint's config reads, and together they parse", () => {
  const apiEnv = compose.services.api.environment as Record<string, string>;
  for (const key of Object.keys(apiEnv)) assert.ok(isRead(key), `${key} is read by shared/config.ts (or the runtime)`);
  const resolved = Object.fromEntries(Object.entries(apiEnv).map(([k, v]) => [k, interpolate(String(v), env)]));
  const config = loadConfig(resolved);
  assert.is(config.env, 'production');
  assert.is(config.host, '0.0.0.0');
  assert.match(config.databaseUrl!, /^postgres:\/\/glint:pw@postgres:5432\/glint$/);
  assert.is(config.redisUrl, 'redis://redis:6379');
  assert.ok(config.trustedProxies.list.has('172.18.0.5'), "Caddy's address on the compose network is a trusted proxy");
  assert.not.ok(config.trustedProxies.list.has('203.0.113.9'), 'a public address is not');
  assert.is(config.publicUrl, 'https://live.example.com');
  assert.equal(config.rtc.announcedIp, '203.0.113.7');
  assert.equal(config.s3, { endpoint: 'http://minio:9000', bucket: 'glint-media', accessKey: 'glint', secretKey: 'm', region: 'us-east-1', publicUrl: null }, 'media in MinIO; no browser reaches minio:9000, so without S3_PUBLIC_URL the api serves it');
  const published = loadConfig(Object.fromEntries(Object.entries(apiEnv).map(([k, v]) => [k, interpolate(String(v), { ...env, S3_PUBLIC_URL: 'https://media.example.com' })])));
  assert.is(published.s3?.publicUrl, 'https://media.example.com', 'S3_PUBLIC_URL from .env reaches the api');
  assert.ok(compose.services.minio, 'the MinIO service the api points at');
  assert.equal({ host: config.rtmp?.host, port: config.rtmp?.port, publicUrl: config.rtmp?.publicUrl }, { host: '0.0.0.0', port: 1935, publicUrl: undefined });
  assert.is(compose.services.api.ports, undefined, 'the api (on Deno) runs no media: nothing but HTTP behind Caddy');
  const ports = (compose.services.sfu.ports as string[]).join(' ');
  assert.match(ports, /1935:1935/, 'RTMP published by the sfu');
  // every worker's WebRtcServer port, RTC_PORT + i, published over UDP and TCP (ICE over TCP when UDP is blocked)
  for (const protocol of ['udp', 'tcp']) {
    const published = (compose.services.sfu.ports as string[])
      .map((p) => new RegExp(`^(\\d+)-(\\d+):(\\d+)-(\\d+)/${protocol}$`).exec(p))
      .find((m) => m && m[1] === m[3] && m[2] === m[4]);
    assert.ok(published, `a ${protocol} range is published`);
    const [from, to] = [Number(published![1]), Number(published![2])];
    assert.ok(from <= config.rtc.port && config.rtc.port + Math.max(2, config.rtc.workers) - 1 <= to, `RTC_PORT..+SFU_WORKERS-1 within ${from}-${to}/${protocol}`);
    assert.ok(to - from + 1 >= 16, 'room for 16 workers');
  }
  assert.ok(config.rtc.minPort > config.rtc.port + 15 || config.rtc.maxPort < config.rtc.port, 'the plain RTP range is apart from the WebRTC ports');
});

t('Caddy forwards to the port the api listens on, and the api waits for its databases', () => {
  const port = compose.services.api.environment.PORT;
  assert.is(compose.services.caddy.environment.API_UPSTREAM, `api:${port}`);
  assert.ok(compose.services.caddy.volumes.some((v: string) => v.startsWith('./Caddyfile:')));
  assert.equal(Object.keys(compose.services.api.depends_on).sort(), ['minio', 'postgres', 'redis']);
  assert.match(compose.services.api.healthcheck.test.join(' '), new RegExp(`127\\.0\\.0\\.1:${port}/readyz`));
});

t('the api searches in the meilisearch service, with its master key', () => {
  const apiEnv = compose.services.api.environment as Record<string, string>;
  const config = loadConfig(Object.fromEntries(Object.entries(apiEnv).map(([k, v]) => [k, interpolate(String(v), env)])));
  assert.equal(config.meili, { url: 'http://meilisearch:7700', apiKey: 'k', index: 'glint' });
  assert.is(interpolate(compose.services.meilisearch.environment.MEILI_MASTER_KEY, env), config.meili!.apiKey);
});

t('the database credentials match between postgres and the api', () => {
  const pg = compose.services.postgres.environment;
  const url = new URL(interpolate(compose.services.api.environment.DATABASE_URL, env));
  assert.is(url.username, pg.POSTGRES_USER);
  assert.is(url.pathname.slice(1), pg.POSTGRES_DB);
  assert.is(interpolate(pg.POSTGRES_PASSWORD, env), decodeURIComponent(url.password));
});

t('secrets have no defaults: compose refuses to start without them', () => {
  const text = readFileSync('docker-compose.yml', 'utf8');
  for (const s of ['POSTGRES_PASSWORD', 'BETTER_AUTH_SECRET', 'MINIO_ROOT_PASSWORD', 'MEILI_MASTER_KEY']) {
    assert.match(text, new RegExp(`\\$\\{${s}:\\?`), `${s} is required`);
    assert.not.match(text, new RegExp(`\\$\\{${s}:-`), `${s} has no default`);
  }
});

// Only a Docker host can build the image and prove the volume writable; this reads the Dockerfile's order instead.
t('the image gives the node user /data before USER node, and compose mounts the data volumes there', () => {
  const lines = readFileSync('Dockerfile', 'utf8').split('\n').map((l) => l.trim());
  const chown = lines.findIndex((l) => /^RUN\b.*mkdir -p \/data\b.*chown (-R )?node(:node)? \/data\b/.test(l));
  const volume = lines.findIndex((l) => /^VOLUME\s+(\/data|\["\/data"\])$/.test(l));
  const user = lines.findIndex((l) => /^USER\s+node$/.test(l));
  assert.ok(chown >= 0, 'a RUN step creates /data owned by node');
  assert.ok(user >= 0, 'the services run as node, not root');
  assert.ok(volume > chown, 'VOLUME /data after the chown (a step after VOLUME does not change the volume)');
  assert.ok(chown < user, 'the chown runs as root, before USER node');
  for (const service of ['api', 'recorder']) {
    assert.is(interpolate(compose.services[service].environment.DATA_DIR, env), '/data', `${service}: DATA_DIR is /data`);
    assert.ok((compose.services[service].volumes as string[]).some((v) => v.split(':')[1] === '/data'), `${service}: a volume at /data`);
  }
});

t.run();
