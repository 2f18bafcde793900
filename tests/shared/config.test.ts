import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config.ts';

const t = suite('config');

t('defaults run the embedded stack: PGlite, in-process bus, local media under ./data', () => {
  const c = loadConfig({});
  assert.is(c.databaseUrl, undefined);
  assert.is(c.redisUrl, undefined);
  assert.is(c.port, 8080);
  assert.is(c.host, '127.0.0.1');
  assert.is(c.dataDir, path.resolve('data'));
  assert.is(c.mediaDir, path.resolve('data/media'));
  assert.is(c.publicUrl, 'http://127.0.0.1:8080');
  assert.is(c.s3, undefined, 'media on local disk');
  assert.equal(
    c.rtmp,
    { host: '127.0.0.1', port: 1935, publicUrl: undefined, maxConnections: 100, maxConnectionsPerAddress: 8, keyFailuresPerMinute: 10, handshakeTimeoutMs: 10_000, maxMessageBytes: 8 << 20 },
    'RTMP ingest on 1935, same host as the API, capped',
  );
});

t('S3 needs its keys; RTMP can be turned off; RTMP_PUBLIC_URL must be an rtmp URL ending in /live', () => {
  const fails = (env: Record<string, string>, key: string) => {
    try {
      loadConfig(env);
      assert.unreachable(`${JSON.stringify(env)} should fail`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, key);
    }
  };
  fails({ S3_ENDPOINT: 'http://minio:9000' }, 'S3_ENDPOINT needs S3_ACCESS_KEY and S3_SECRET_KEY');
  fails({ RTMP_PUBLIC_URL: 'http://live.example.com/live' }, 'RTMP_PUBLIC_URL');
  assert.is(loadConfig({ RTMP_ENABLED: 'false' }).rtmp, undefined);
  assert.is(loadConfig({ RTMP_PUBLIC_URL: 'rtmp://live.example.com/live/' }).rtmp?.publicUrl, 'rtmp://live.example.com/live');
  assert.is(loadConfig({ S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' }).s3?.bucket, 'glint-media');
  // where signed URLs point: S3_PUBLIC_URL, else the endpoint, else (a name only a container network resolves) none
  const s3 = (env: Record<string, string>) => loadConfig({ S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b', ...env }).s3?.publicUrl;
  assert.is(s3({ S3_ENDPOINT: 'http://minio:9000', S3_PUBLIC_URL: 'https://media.example.com' }), 'https://media.example.com');
  assert.is(s3({ S3_ENDPOINT: 'http://minio:9000', S3_PUBLIC_URL: '' }), null);
  assert.is(s3({ S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' }), 'https://s3.eu-west-1.amazonaws.com');
  assert.is(s3({ S3_ENDPOINT: 'http://127.0.0.1:9000' }), 'http://127.0.0.1:9000');
  fails({ S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b', S3_PUBLIC_URL: 'https://cdn.example.com/media' }, 'S3_PUBLIC_URL is an origin');
});

t('media delivery: MEDIA_PUBLIC_URL a base URL (trailing slash dropped), MEDIA_SIGNING_KEYS kid:secret pairs', () => {
  assert.equal(loadConfig({}).media, { publicUrl: undefined, signingKeys: undefined, tokenTtlSeconds: 4 * 3600 });
  const c = loadConfig({ MEDIA_PUBLIC_URL: 'https://cdn.example.com/hls/', MEDIA_SIGNING_KEYS: `b:${'y'.repeat(32)}, a:${'x'.repeat(32)}`, MEDIA_TOKEN_TTL_SECONDS: '600' });
  assert.equal(c.media, { publicUrl: 'https://cdn.example.com/hls', signingKeys: [{ kid: 'b', secret: 'y'.repeat(32) }, { kid: 'a', secret: 'x'.repeat(32) }], tokenTtlSeconds: 600 });
  for (const [env, message] of [
    [{ MEDIA_SIGNING_KEYS: 'a:short' }, /MEDIA_SIGNING_KEYS: the secret of key "a" must be at least 32/],
    [{ MEDIA_SIGNING_KEYS: 'x'.repeat(40) }, /MEDIA_SIGNING_KEYS: .*not kid:secret/],
    [{ MEDIA_PUBLIC_URL: 'ftp://cdn.example.com/' }, /MEDIA_PUBLIC_URL is an http\(s\) base URL/],
    [{ MEDIA_PUBLIC_URL: 'https://cdn.example.com/hls?x=1' }, /MEDIA_PUBLIC_URL is an http\(s\) base URL/],
    [{ MEDIA_TOKEN_TTL_SECONDS: '5' }, /MEDIA_TOKEN_TTL_SECONDS/],
  ] as const) {
    assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
});

t('SFU nodes: SFU_DISCOVERY=redis needs REDIS_URL and no SFU_URL; SFU_NODE_ID is path-safe', () => {
  assert.equal(loadConfig({}).sfuNode, { id: undefined, url: undefined, drainGraceMs: 60_000, edgePull: true });
  const c = loadConfig({ SFU_DISCOVERY: 'redis', REDIS_URL: 'redis://redis:6379', SFU_NODE_ID: 'sfu-2', SFU_NODE_URL: 'http://sfu-2:8080/' });
  assert.equal([c.sfuDiscovery, c.sfuUrl, c.sfuNode.id, c.sfuNode.url], ['redis', undefined, 'sfu-2', 'http://sfu-2:8080']);
  for (const [env, message] of [
    [{ SFU_DISCOVERY: 'redis' }, /SFU_DISCOVERY=redis needs REDIS_URL/],
    [{ SFU_DISCOVERY: 'redis', REDIS_URL: 'redis://redis:6379', SFU_URL: 'http://sfu:8080' }, /SFU_URL unset/],
    [{ SFU_NODE_ID: 'a.b' }, /SFU_NODE_ID: letters, digits/],
  ] as const) {
    assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
});

t('production settings are read and normalized', () => {
  const c = loadConfig({
    DATABASE_URL: 'postgres://glint:pw@postgres:5432/glint',
    REDIS_URL: 'redis://redis:6379',
    PUBLIC_URL: 'https://live.example.com/',
    HOST: '0.0.0.0',
    PORT: '3000',
    BETTER_AUTH_SECRET: 'x'.repeat(40),
    TRUSTED_ORIGINS: 'https://a.example, https://b.example',
  });
  assert.is(c.databaseUrl, 'postgres://glint:pw@postgres:5432/glint');
  assert.is(c.redisUrl, 'redis://redis:6379');
  assert.is(c.publicUrl, 'https://live.example.com');
  assert.is(c.port, 3000);
  assert.equal(c.trustedOrigins, ['https://a.example', 'https://b.example']);
});

t('empty strings count as unset (docker-compose passes them for optional settings)', () => {
  const c = loadConfig({ DATABASE_URL: '', REDIS_URL: '' });
  assert.is(c.databaseUrl, undefined);
  assert.is(c.redisUrl, undefined);
});

t('bad values fail fast with every bad key named', () => {
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', BETTER_AUTH_SECRET: 'short', LOG_LEVEL: 'loud' });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ConfigError);
    const msg = (err as Error).message;
    for (const key of ['PORT', 'DATABASE_URL', 'BETTER_AUTH_SECRET', 'LOG_LEVEL']) assert.match(msg, key);
  }
});

t('only the host adapter\'s config-env.ts reads process.env in the services (shared/config.ts takes it from there)', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('grep', ['-rlE', 'process\\.env', 'api', 'server', 'sfu', 'recorder', 'shared'], { encoding: 'utf8' });
  const files = r.stdout.split('\n').filter(Boolean).sort();
  assert.equal(files, ['shared/host/config-env.ts']);
});

t('SFU caps: viewers per channel per worker, numberings per channel (SFU_EDGE_ROUTERS_PER_CHANNEL still read, the new name wins)', () => {
  const c = loadConfig({ SFU_WORKERS: '3', SFU_VIEWERS_PER_CHANNEL: '100' });
  assert.is(c.sfu.viewersPerChannel, 100);
  assert.is(c.sfu.maxViewers, 300, 'SFU_MAX_VIEWERS defaults to workers × viewers per channel and worker');
  assert.is(c.sfu.numberingsPerChannel, 4);
  assert.is(loadConfig({ SFU_EDGE_ROUTERS_PER_CHANNEL: '2' }).sfu.numberingsPerChannel, 2, 'the former name');
  assert.is(loadConfig({ SFU_EDGE_ROUTERS_PER_CHANNEL: '2', SFU_NUMBERINGS_PER_CHANNEL: '0' }).sfu.numberingsPerChannel, 0);
});

t.run();
