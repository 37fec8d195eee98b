// Proves the destination check: every private, loopback, link-local and reserved form is refused (IPv4, IPv6,
// IPv4-mapped and NAT64 spellings included) and public addresses pass; the setting lets private ones through.
import { classifyAddress, isAllowedDestination } from './address';

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['ff02::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['example.com', 'not-an-ip'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('allows only public destinations unless private ones are allowed; a hostname is never an address', () => {
    expect(isAllowedDestination('public', false)).toBe(true);
    for (const c of ['private', 'loopback', 'link-local', 'reserved', 'not-an-ip'] as const) {
      expect({ c, allowed: isAllowedDestination(c, false) }).toEqual({ c, allowed: false });
    }
    expect(isAllowedDestination('loopback', true)).toBe(true);
    expect(isAllowedDestination('not-an-ip', true)).toBe(false);
  });
});
