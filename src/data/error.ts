/** The error the data module throws when it is called with arguments it cannot use. */

/** Thrown by data-set, batching and toy-set functions for bad arguments; the message names the function. */
export class DataError extends Error {
  override readonly name = 'DataError'
}
