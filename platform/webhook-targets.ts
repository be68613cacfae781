import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (injected in tests; DNS through the OS otherwise). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** What an operator allowed with FACTORY_WEBHOOK_ALLOW_HOSTS: host names (optionally with a port) and addresses or CIDRs. */
export interface WebhookAllowList {
  hosts: { host: string; port?: number }[];
  addresses: { range: BlockList; family: 4 | 6; port?: number; text: string }[];
}

export interface WebhookTargetPolicy {
  allow: WebhookAllowList;
  resolve: HostResolver;
}

export const EMPTY_ALLOW_LIST: WebhookAllowList = { hosts: [], addresses: [] };

/** Ranges a webhook may not reach unless allowed: the host itself, private networks, cloud metadata, and the like. */
const BLOCKED: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', '"this network"'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignment'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  // Mapped, NAT64, 6to4 and Teredo addresses carry an IPv4 address that may be internal.
  ['::ffff:0:0', 96, 'ipv6', 'IPv4-mapped'],
  ['64:ff9b::', 96, 'ipv6', 'NAT64'],
  ['2002::', 16, 'ipv6', '6to4'],
  ['2001::', 32, 'ipv6', 'Teredo'],
  ['100::', 64, 'ipv6', 'discard'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const BLOCKED_RANGES = BLOCKED.map(([network, prefix, type, name]) => {
  const range = new BlockList();
  range.addSubnet(network, prefix, type);
  return { range, type, name: `${name} ${network}/${prefix}` };
});

/** The blocked range an address falls in, or undefined for a public address. */
export function blockedRange(address: string): string | undefined {
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  // BlockList matches an IPv4 address against IPv6 rules as ::ffff:a.b.c.d: only IPv4 rules judge IPv4 addresses.
  return BLOCKED_RANGES.find((b) => (type === 'ipv6' || b.type === 'ipv4') && b.range.check(address, type))?.name;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Parses FACTORY_WEBHOOK_ALLOW_HOSTS (comma-separated); each entry it cannot read is one problem. */
export function parseWebhookAllowList(raw: string | undefined): { allow: WebhookAllowList; problems: string[] } {
  const allow: WebhookAllowList = { hosts: [], addresses: [] };
  const problems: string[] = [];
  for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const parsed = parseEntry(entry);
    if (!parsed) problems.push(`"${entry}" is not a host name, host:port, IP address, [IPv6]:port or CIDR`);
    else if ('host' in parsed) allow.hosts.push(parsed);
    else allow.addresses.push({ ...parsed, text: entry });
  }
  return { allow, problems };
}

function parseEntry(entry: string): { host: string; port?: number } | { range: BlockList; family: 4 | 6; port?: number } | undefined {
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr?.[1] && cidr[2]) {
    const version = isIP(cidr[1]);
    const prefix = Number(cidr[2]);
    if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
    return { range: addressRange(cidr[1], prefix), family: version === 4 ? 4 : 6 };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  const hostPort = /^([^:]+):(\d{1,5})$/.exec(entry);
  const [host, portText] = bracketed ? [bracketed[1] ?? '', bracketed[2]] : hostPort ? [hostPort[1] ?? '', hostPort[2]] : [entry, undefined];
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const version = isIP(host);
  if (version !== 0) return { range: addressRange(host, version === 4 ? 32 : 128), family: version === 4 ? 4 : 6, ...(port !== undefined && { port }) };
  if (bracketed || !HOST_NAME.test(host)) return undefined;
  return { host: host.toLowerCase(), ...(port !== undefined && { port }) };
}

function addressRange(network: string, prefix: number): BlockList {
  const range = new BlockList();
  range.addSubnet(network, prefix, isIP(network) === 6 ? 'ipv6' : 'ipv4');
  return range;
}

/** Why a webhook URL may not be called; `code` is the API's error code. */
export class WebhookTargetRefused extends Error {
  override readonly name = 'WebhookTargetRefused';
  constructor(
    readonly code: 'webhook_address_forbidden' | 'webhook_host_unresolvable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Resolves the URL's host once and checks every address it has; returns the address to connect to, so the
 * caller connects to what was checked (a DNS answer that changes between check and connect changes nothing).
 */
export async function checkWebhookTarget(url: URL, policy: WebhookTargetPolicy): Promise<ResolvedAddress> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const literal = isIP(hostname);
  let addresses: ResolvedAddress[];
  if (literal !== 0) addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await policy.resolve(hostname);
    } catch (err) {
      throw new WebhookTargetRefused('webhook_host_unresolvable', `The webhook host ${hostname} could not be resolved (${(err as Error).message}); check the URL.`);
    }
  }
  const [first] = addresses;
  if (!first) throw new WebhookTargetRefused('webhook_host_unresolvable', `The webhook host ${hostname} has no address; check the URL.`);
  // A host name the operator named is trusted whatever it resolves to.
  if (policy.allow.hosts.some((h) => h.host === hostname && (h.port === undefined || h.port === port))) return first;
  for (const { address, family } of addresses) {
    const blocked = blockedRange(address);
    if (!blocked) continue;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const allowed = policy.allow.addresses.some((a) => (family === 6 || a.family === 4) && a.range.check(address, type) && (a.port === undefined || a.port === port));
    if (allowed) continue;
    throw new WebhookTargetRefused(
      'webhook_address_forbidden',
      `The webhook host ${hostname} resolves to ${address}, a ${blocked} address; webhooks are delivered to public addresses only. An operator can allow it with FACTORY_WEBHOOK_ALLOW_HOSTS.`,
    );
  }
  return first;
}

/** The default: public addresses only, resolved by the OS. */
export const PUBLIC_ADDRESSES_ONLY: WebhookTargetPolicy = { allow: EMPTY_ALLOW_LIST, resolve: systemResolver };
