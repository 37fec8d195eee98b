import { isIP } from 'node:net';

// Outbound requests go only to public addresses unless a setting allows otherwise: a participant must not be able to
// point the exchange at its own internal network (SSRF). Every address a hostname resolves to is classified, at
// registration and again before each attempt (DNS may change between the two).

export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'reserved' | 'not-an-ip';

const v4ToInt = (ip: string): number => ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);

const inV4 = (n: number, base: string, bits: number): boolean => {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return n >= start && n < start + size;
};

const classifyV4 = (ip: string): AddressClass => {
  const n = v4ToInt(ip);
  if (inV4(n, '127.0.0.0', 8)) return 'loopback';
  if (inV4(n, '169.254.0.0', 16)) return 'link-local';
  if (inV4(n, '10.0.0.0', 8) || inV4(n, '172.16.0.0', 12) || inV4(n, '192.168.0.0', 16)) return 'private';
  // Carrier-grade NAT is someone's private network too.
  if (inV4(n, '100.64.0.0', 10)) return 'private';
  if (
    inV4(n, '0.0.0.0', 8) ||
    inV4(n, '192.0.0.0', 24) ||
    inV4(n, '192.0.2.0', 24) ||
    inV4(n, '198.18.0.0', 15) ||
    inV4(n, '198.51.100.0', 24) ||
    inV4(n, '203.0.113.0', 24) ||
    inV4(n, '224.0.0.0', 4) ||
    inV4(n, '240.0.0.0', 4)
  ) {
    return 'reserved';
  }
  return 'public';
};

/** Expands an IPv6 literal to its eight 16-bit groups (an embedded dotted IPv4 tail counts as two). */
const v6Groups = (ip: string): number[] => {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const maybeV4 = s.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const n = v4ToInt(maybeV4);
    tail = [Math.floor(n / 65536), n % 65536];
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = s.includes('::') ? (s.split('::') as [string, string]) : [s, null];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  let groups: number[];
  if (rest === null) groups = h;
  else {
    const r = parse(rest);
    groups = [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  }
  if (tail.length === 2) groups = [...groups.slice(0, 6), ...tail];
  return groups;
};

/** The dotted IPv4 address held in two 16-bit groups. */
const v4FromGroups = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The stricter of two classes: anything not public wins over public. */
const stricter = (x: AddressClass, y: AddressClass): AddressClass => (x === 'public' ? y : x);

const classifyV6 = (ip: string): AddressClass => {
  const g = v6Groups(ip);
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g6 = 0, h = 0] = g;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0) {
    // ::ffff:a.b.c.d is the IPv4 address itself; :: and ::1 are unspecified and loopback.
    if (f === 0xffff) return classifyV4(v4FromGroups(g6, h));
    if (f === 0 && g6 === 0 && h === 1) return 'loopback';
    // :: and the deprecated IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1): nothing public is spelled so.
    if (f === 0) return 'reserved';
  }
  // The IPv4-translated form ::ffff:0:a.b.c.d (RFC 2765) names the IPv4 address too.
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0xffff && f === 0) return classifyV4(v4FromGroups(g6, h));
  // The translators and tunnels below carry an IPv4 address inside the IPv6 one and deliver to it, so they are
  // judged by that address (else 2002:7f00:1:: would reach 127.0.0.1).
  // NAT64 (64:ff9b::/96, RFC 6052) reaches the embedded IPv4 address.
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return classifyV4(v4FromGroups(g6, h));
  // Local-use NAT64 (64:ff9b:1::/48, RFC 8215) is some operator's own translator: never a public destination.
  if (a === 0x64 && b === 0xff9b && c === 1) return 'private';
  // 6to4 (2002::/16, RFC 3056): the IPv4 address is in bits 16–47.
  if (a === 0x2002) return classifyV4(v4FromGroups(b, c));
  // Teredo (2001:0000::/32, RFC 4380): the server's IPv4 address in bits 32–63 and the client's, inverted, in the
  // last 32 bits; the packet reaches the client through the server, so both must be public.
  if (a === 0x2001 && b === 0) {
    return stricter(classifyV4(v4FromGroups(g6 ^ 0xffff, h ^ 0xffff)), classifyV4(v4FromGroups(c, d)));
  }
  if ((a & 0xffc0) === 0xfe80) return 'link-local';
  if ((a & 0xfe00) === 0xfc00) return 'private';
  if ((a & 0xff00) === 0xff00) return 'reserved';
  // Documentation prefix and the deprecated site-local range.
  if ((a === 0x2001 && b === 0x0db8) || (a & 0xffc0) === 0xfec0) return 'reserved';
  return 'public';
};

/** The class of an IP literal; `not-an-ip` for a hostname. */
export const classifyAddress = (address: string): AddressClass => {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const kind = isIP(bare.split('%')[0] ?? '');
  if (kind === 4) return classifyV4(bare);
  if (kind === 6) return classifyV6(bare);
  return 'not-an-ip';
};

/** May a request go to this address? Only public ones, unless private destinations are allowed (tests, dev). */
export const isAllowedDestination = (cls: AddressClass, allowPrivate: boolean): boolean =>
  cls === 'public' || (allowPrivate && cls !== 'not-an-ip');
