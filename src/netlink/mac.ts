/** MAC addresses as netlink carries them (6 bytes) and as callers write them ("aa:bb:cc:dd:ee:ff"). */
import { InvalidArgumentError } from '../core/errors';
import { isMacAddress } from '../core/names';

/** Parse "aa:bb:cc:dd:ee:ff"; throws InvalidArgumentError. */
export function parseMac(mac: string): Buffer {
  if (!isMacAddress(mac)) {
    throw new InvalidArgumentError(`MAC address ${JSON.stringify(mac)} is not of the form aa:bb:cc:dd:ee:ff`);
  }
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(bytes: Buffer | Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
