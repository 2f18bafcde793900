import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { clientAddress, parseTrustedProxies } from '../../shared/client-address.ts';
import { loadConfig } from '../../shared/config.ts';

const t = suite('clientAddress');
const none = parseTrustedProxies('');
const caddy = parseTrustedProxies('127.0.0.1, 10.0.0.0/8');

t('without trusted proxies X-Forwarded-For is ignored: the peer is the client', () => {
  assert.is(clientAddress('198.51.100.4', '1.2.3.4', none), '198.51.100.4');
  assert.is(clientAddress('::ffff:198.51.100.4', undefined, none), '198.51.100.4', 'an IPv4-mapped peer reads as IPv4');
});

t('a trusted proxy’s X-Forwarded-For names the client, read from the right past trusted hops', () => {
  assert.is(clientAddress('127.0.0.1', '203.0.113.9', caddy), '203.0.113.9');
  assert.is(clientAddress('127.0.0.1', '203.0.113.9, 10.1.2.3', caddy), '203.0.113.9', 'an inner proxy is skipped');
  assert.is(clientAddress('127.0.0.1', '6.6.6.6, 203.0.113.9', caddy), '203.0.113.9', 'what the client wrote to the left is not believed');
  assert.is(clientAddress('127.0.0.1', 'garbage, 203.0.113.9', caddy), '203.0.113.9');
  assert.is(clientAddress('127.0.0.1', 'not-an-ip', caddy), '127.0.0.1', 'a malformed header leaves the proxy as the client');
});

t('an untrusted peer cannot claim another address', () => {
  assert.is(clientAddress('198.51.100.4', '127.0.0.1', caddy), '198.51.100.4');
});

t('named ranges and a bad entry in config', () => {
  assert.ok(parseTrustedProxies('loopback').list.has('127.0.0.5'));
  assert.ok(parseTrustedProxies('private').list.has('192.168.1.1'));
  assert.throws(() => loadConfig({ TRUSTED_PROXIES: 'caddy.local' }), /TRUSTED_PROXIES/);
  assert.throws(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' }), /TRUSTED_PROXIES/);
});

t.run();
