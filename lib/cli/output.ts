/** Where a command writes; the bin scripts pass process.stdout/stderr, tests collect text. */
export interface CliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The terminal: what the bin scripts pass. */
export const PROCESS_OUTPUT: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
