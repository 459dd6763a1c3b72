/**
 * Standalone fake W&B server:
 *   node dist/test/fake-wandb/main.js --port 0 --fixture demo [--max-page-size N] [--signed-url-ttl-ms N]
 * First stdout line: `fake-wandb listening on http://127.0.0.1:PORT api-key=<key>`.
 * The key can be set with env FAKE_WANDB_API_KEY (never on the command line). Stops on SIGINT/SIGTERM.
 */
import { FIXTURE_NAMES, type FixtureName } from './fixture-types.js';
import { startFakeWandb, type FakeWandbOptions } from './server.js';

function parseArgs(argv: string[]): FakeWandbOptions {
  const opts: FakeWandbOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=')
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${flag} needs a non-negative integer`);
      return v;
    };
    switch (flag) {
      case '--port':
        opts.port = int();
        break;
      case '--fixture': {
        const f = value();
        if (!(FIXTURE_NAMES as readonly string[]).includes(f)) {
          throw new Error(`unknown fixture ${f} (one of ${FIXTURE_NAMES.join(', ')})`);
        }
        opts.fixture = f as FixtureName;
        break;
      }
      case '--max-page-size':
        opts.maxPageSize = int();
        break;
      case '--signed-url-ttl-ms':
        opts.signedUrlTtlMs = int();
        break;
      case '--help':
        process.stdout.write(
          'usage: main.js [--port 0] [--fixture demo|large|huge-file|hostile] [--max-page-size 100] [--signed-url-ttl-ms 3600000]\n',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  const key = process.env.FAKE_WANDB_API_KEY;
  if (key !== undefined && key !== '') opts.apiKey = key;
  return opts;
}

async function main(): Promise<void> {
  let opts: FakeWandbOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fake-wandb: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const server = await startFakeWandb(opts);
  process.stdout.write(`fake-wandb listening on ${server.url} api-key=${server.apiKey}\n`);
  const shutdown = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

await main();
