/**
 * The order in which measurement rounds of several kinds run: all kinds in turn, then in reverse
 * (A B C C B A ...), so a drift in the machine's speed weighs on every kind alike.
 */
export function alternatingRounds<K>(kinds: readonly K[], roundsPerKind: number): K[] {
  return Array.from({ length: roundsPerKind }, (_, i) => (i % 2 === 0 ? [...kinds] : [...kinds].reverse())).flat();
}
