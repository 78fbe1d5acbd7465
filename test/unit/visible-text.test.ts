import { describe, expect, it } from 'vitest';
import { visible } from '../../src/cli/visible-text.js';

describe('text made visible for a terminal', () => {
  it('shows escape sequences, other controls and bidirectional overrides as escapes', () => {
    expect(visible('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(visible('run \u202eexe.sh')).toBe('run \\u202eexe.sh');
    expect(visible('bell\u0007 back\b nul\u0000 del\u007f csi\u009b')).toBe('bell\\x07 back\\x08 nul\\x00 del\\x7f csi\\x9b');
    expect(visible('over\rwrite \u2066isolate\u2069 \u200fmark')).toBe('over\\x0dwrite \\u2066isolate\\u2069 \\u200fmark');
  });

  it('keeps newlines, tabs and every printable character as they are', () => {
    const text = 'line one\n\tindented — café 日本語 emoji 🙂 عربى';
    expect(visible(text)).toBe(text);
  });
});
