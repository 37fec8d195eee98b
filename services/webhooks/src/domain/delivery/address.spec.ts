// Proves the destination check: every private, loopback, link-local and reserved form is refused (IPv4, IPv6,
// IPv4-mapped, IPv4-compatible, NAT64, 6to4 and Teredo spellings of an IPv4 address included) and public addresses
// pass; the setting lets private ones through.
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
    // The IPv4-translated and the deprecated IPv4-compatible forms.
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:a00:1', 'private'],
    ['::ffff:0:808:808', 'public'],
    ['::127.0.0.1', 'reserved'],
    ['::808:808', 'reserved'],
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits; the local-use prefix is never public.
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::808:808', 'private'],
    // 6to4 (2002::/16) carries the IPv4 address in bits 16–47.
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a00:1::', 'private'],
    ['2002:c0a8:101:1::1', 'private'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:e000:1::', 'reserved'],
    ['2002:808:808::1', 'public'],
    // Teredo (2001:0::/32): the server in bits 32–63, the client inverted in the last 32 bits; both must be public.
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    ['2001::4136:e378:8000:63bf:f5ff:fffe', 'private'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'link-local'],
    ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'private'],
    ['2001:0:7f00:1:8000:63bf:f7f7:f7f7', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public'],
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
