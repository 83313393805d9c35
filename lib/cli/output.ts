/** Where a command writes; the bin scripts pass process.stdout/stderr, tests collect text. */
export interface CliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}
