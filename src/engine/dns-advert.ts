/**
 * Which networks a running `cnm daemon` answers DNS for: the daemon writes `services/dns/<host>` with its own identity
 * and, per network name, the address it listens on; `cnm run` reads it to point a container's resolv.conf there (and
 * to warn when nothing answers). A record whose owner is gone counts as absent.
 */
import { isAbandoned, type Owner, type OwnerProbe } from '../core/owner';
import { getJson, type Store } from '../core/store';

export interface DnsAdvert {
  owner: Owner;
  /** network name -> the address the daemon answers on (the network's gateway) */
  networks: Record<string, string>;
}

export const dnsAdvertKey = (host: string): string => `services/dns/${host || 'local'}`;

export async function writeDnsAdvert(store: Store, host: string, advert: DnsAdvert): Promise<void> {
  await store.put(dnsAdvertKey(host), JSON.stringify(advert));
}

export async function removeDnsAdvert(store: Store, host: string): Promise<void> {
  await store.delete(dnsAdvertKey(host));
}

/** The address a live daemon on this host answers DNS on for `network`, or undefined. */
export async function dnsServerFor(store: Store, probe: OwnerProbe, host: string, network: string): Promise<string | undefined> {
  const rec = await getJson<DnsAdvert>(store, dnsAdvertKey(host));
  if (!rec || isAbandoned(probe, rec.value.owner)) return undefined;
  return rec.value.networks[network];
}
