/**
 * One JSON object per line on stderr: journald keeps it, `jq` reads it.
 *
 * Callers pass fields, never raw tokens: nothing here can tell a token from any
 * other string, so the rule is kept at the call sites (and checked by the tests).
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLineLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }) + '\n');
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined };
