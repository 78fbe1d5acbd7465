/**
 * A response body read whole, up to `maxBytes`: a peer that sends more (an endless stream, a huge
 * answer) has its body cancelled at the limit and never costs more memory than that. Undefined
 * when the body was over the limit.
 */
export async function readBoundedBody(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
