import type { Payload } from '@temporalio/common';
import { z } from 'zod';

/**
 * Payloads as the codec server protocol carries them: protobuf's JSON mapping, where every bytes
 * field (the data and each metadata value) is a base64 string.
 */
const jsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).nullish(),
  data: z.string().nullish(),
});
export const payloadsBody = z.object({ payloads: z.array(jsonPayload) });
export type JsonPayload = z.infer<typeof jsonPayload>;

export function payloadFromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : {},
    data: data ? Buffer.from(data, 'base64') : Buffer.alloc(0),
  };
}

export function payloadToJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
    data: Buffer.from(data ?? []).toString('base64'),
  };
}
