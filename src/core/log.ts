/**
 * Minimal leveled logger writing one line per event. Secrets are registered once (the API key) and
 * scrubbed from every line, and signed URLs are cut at their query string, so no call site can leak them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
  readonly level: LogLevel;
}

export interface LogSink {
  write(line: string): void;
}

const secrets = new Set<string>();

/** Register a value that must never appear in any log line (e.g. the API key). */
export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

/** Strips query strings (signatures) from URLs and replaces registered secrets. */
export function redact(text: string): string {
  let out = text.replace(/(https?:\/\/[^\s?"']+)\?[^\s"']*/g, '$1?<redacted>');
  for (const s of secrets) out = out.split(s).join('<redacted>');
  return out;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

export function createLogger(options: { level?: LogLevel; sink?: LogSink; scope?: string } = {}): Logger {
  const level = options.level ?? 'info';
  const sink = options.sink ?? { write: (line: string) => process.stderr.write(line) };
  const make = (scope: string | undefined): Logger => {
    const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
      if (ORDER[lvl] < ORDER[level]) return;
      const parts = [new Date().toISOString(), lvl.toUpperCase().padEnd(5)];
      if (scope) parts.push(`[${scope}]`);
      parts.push(msg);
      if (fields && Object.keys(fields).length > 0) parts.push(safeJson(fields));
      sink.write(redact(parts.join(' ')) + '\n');
    };
    return {
      level,
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (s) => make(scope ? `${scope}:${s}` : s),
    };
  };
  return make(options.scope);
}

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_k, v: unknown) =>
      v instanceof Error ? { name: v.name, message: v.message } : typeof v === 'bigint' ? String(v) : v,
    );
  } catch {
    return '{}';
  }
}

/** A logger that drops everything; for tests and library callers that pass none. */
export const silentLogger: Logger = createLogger({ level: 'silent' });
