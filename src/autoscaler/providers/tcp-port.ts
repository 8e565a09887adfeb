import { z } from 'zod';

/** A TCP port (1 to 65535) in a provider's config. */
export function tcpPort() {
  return z.number().int().min(1).max(65535);
}
