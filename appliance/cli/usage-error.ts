/** A command line that cannot be run as given; the CLI prints it with the usage hint and exits 2. */
export class UsageError extends Error {
  readonly code = 'ET_USAGE'

  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
