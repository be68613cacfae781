import { describe, expect, it } from 'vitest';
import { blockedRange, checkWebhookTarget, parseWebhookAllowList, systemResolver, type HostResolver, type ResolvedAddress } from '../../platform/webhook-targets';

const policy = (allowHosts: string | undefined, resolve: HostResolver = systemResolver) => ({ allow: parseWebhookAllowList(allowHosts).allow, resolve });
const fixed =
  (...addresses: string[]): HostResolver =>
  () =>
    Promise.resolve(addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('webhook targets', () => {
  it('names the range of every internal address and lets public ones through', () => {
    for (const [address, range] of [
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local (cloud metadata)'],
      ['0.0.0.0', '"this network"'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['fd00::1', 'unique local'],
      ['fe80::1', 'link-local'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['::ffff:8.8.8.8', 'IPv4-mapped'],
      ['224.0.0.1', 'multicast'],
    ] as const) {
      expect(blockedRange(address), address).toContain(range);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '203.0.113.7']) expect(blockedRange(address), address).toBeUndefined();
  });

  it('reads FACTORY_WEBHOOK_ALLOW_HOSTS entries and names each it cannot read', () => {
    const { allow, problems } = parseWebhookAllowList(' 127.0.0.1, hooks.internal:8080,10.0.0.0/8, [::1]:9000 ,fd00::/8');
    expect(problems).toEqual([]);
    expect(allow.hosts).toEqual([{ host: 'hooks.internal', port: 8080 }]);
    expect(allow.addresses.map((a) => [a.text, a.port])).toEqual([
      ['127.0.0.1', undefined],
      ['10.0.0.0/8', undefined],
      ['[::1]:9000', 9000],
      ['fd00::/8', undefined],
    ]);
    expect(parseWebhookAllowList('10.0.0.0/33,host:99999,bad host,[nothost]').problems).toEqual([
      '"10.0.0.0/33" is not a host name, host:port, IP address, [IPv6]:port or CIDR',
      '"host:99999" is not a host name, host:port, IP address, [IPv6]:port or CIDR',
      '"bad host" is not a host name, host:port, IP address, [IPv6]:port or CIDR',
      '"[nothost]" is not a host name, host:port, IP address, [IPv6]:port or CIDR',
    ]);
  });

  it('refuses IP literals, localhost and names resolving to internal addresses, unless allowed', async () => {
    const refused = (url: string, p = policy(undefined)) => checkWebhookTarget(new URL(url), p).then(() => 'allowed', (err: { code: string }) => err.code);
    expect(await refused('http://127.0.0.1:8080/hooks')).toBe('webhook_address_forbidden');
    expect(await refused('http://localhost:8080/hooks')).toBe('webhook_address_forbidden');
    expect(await refused('http://[::1]/hooks')).toBe('webhook_address_forbidden');
    expect(await refused('http://169.254.169.254/latest/meta-data')).toBe('webhook_address_forbidden');
    expect(await refused('http://[::ffff:169.254.169.254]/')).toBe('webhook_address_forbidden');
    // WHATWG URL parsing turns odd spellings into the address they mean.
    expect(await refused('http://0x7f000001/')).toBe('webhook_address_forbidden');
    expect(await refused('http://2130706433/')).toBe('webhook_address_forbidden');
    expect(await refused('https://hooks.example/x', policy(undefined, fixed('10.0.0.5')))).toBe('webhook_address_forbidden');
    // One internal answer among public ones is enough to refuse.
    expect(await refused('https://hooks.example/x', policy(undefined, fixed('8.8.8.8', '192.168.0.9')))).toBe('webhook_address_forbidden');
    expect(await refused('https://hooks.example/x', policy(undefined, fixed('8.8.8.8')))).toBe('allowed');
    expect(await refused('https://203.0.113.7/x')).toBe('allowed');
    expect(await refused('https://nowhere.example/x', policy(undefined, () => Promise.reject(new Error('ENOTFOUND'))))).toBe('webhook_host_unresolvable');

    expect(await refused('http://localhost:8080/hooks', policy('127.0.0.1'))).toBe('allowed');
    expect(await refused('http://127.0.0.1:8080/hooks', policy('127.0.0.1:8080'))).toBe('allowed');
    expect(await refused('http://127.0.0.1:9090/hooks', policy('127.0.0.1:8080'))).toBe('webhook_address_forbidden');
    expect(await refused('http://10.2.3.4/hooks', policy('10.0.0.0/8'))).toBe('allowed');
    expect(await refused('http://hooks.internal:8080/x', policy('hooks.internal:8080', fixed('10.9.9.9')))).toBe('allowed');
    expect(await refused('http://hooks.internal:8081/x', policy('hooks.internal:8080', fixed('10.9.9.9')))).toBe('webhook_address_forbidden');
  });

  it('returns the checked address, which the delivery connects to', async () => {
    expect(await checkWebhookTarget(new URL('https://hooks.example/x'), policy(undefined, fixed('8.8.4.4')))).toEqual({ address: '8.8.4.4', family: 4 });
  });
});
