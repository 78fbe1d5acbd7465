/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls (an escape sequence can
 * recolour, move the cursor, retitle the window or hide what follows), DEL, and the bidirectional
 * formatting characters (a right-to-left override can make `evil.sh` read as `hs.live`). Newlines
 * and tabs are kept: they are the text's own layout.
 */
// eslint-disable-next-line no-control-regex -- matching the controls is what it is for
const actedOn = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text from a prompt, an agent or a row as the terminal should print it: every character it would
 * act on written as its escape (`\x1b`, `\u202e`), so what an agent or a prompt's author wrote is
 * shown, never done.
 */
export function visible(text: string): string {
  return text.replace(actedOn, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
