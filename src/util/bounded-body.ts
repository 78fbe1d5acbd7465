/**
 * A response body read whole, up to `maxBytes`: a peer that sends more (an endless stream, a huge
 * answer) has its body destroyed at the limit and never costs more memory than that. Undefined
 * when the body was over the limit (by its declared length, or once read past it).
 */
export async function readBoundedBody(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  declaredLength: number,
  maxBytes: number,
): Promise<string | undefined> {
  if (declaredLength > maxBytes) {
    body.destroy();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
