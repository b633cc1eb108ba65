/**
 * The text of every file in src/layers/ and of the kernel files the Step mode shows, by path from
 * the repository root ('src/layers/dense.ts'); scripts/playground.ts provides it at bundle time.
 */
declare module 'virtual:layer-sources' {
  const sources: Readonly<Record<string, string>>
  export default sources
}
