/** What a helper needs of a test to clean up after it; ava's ExecutionContext is one, and a script can make one. */
export interface Teardown {
  teardown: (fn: () => Promise<void> | void) => void
}
