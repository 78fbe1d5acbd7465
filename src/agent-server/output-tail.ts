/**
 * The last bytes of a run's output, kept as the chunks arrived: adding one costs no copy, however
 * small and many the chunks (a process printing a line at a time), and the text is joined only when
 * asked for.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0]!.length >= this.maxBytes) this.bytes -= this.chunks.shift()!.length;
  }

  /** At most `maxBytes`, starting on a character: a cut UTF-8 sequence at the start is left out. */
  text(): string {
    const joined = Buffer.concat(this.chunks);
    const last = joined.subarray(Math.max(0, joined.length - this.maxBytes));
    let start = 0;
    if (last.length < joined.length) while (start < Math.min(3, last.length) && (last[start]! & 0xc0) === 0x80) start += 1;
    return last.subarray(start).toString('utf8');
  }
}
