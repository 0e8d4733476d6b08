/** Dev-server configurations the benches compare (`npm run bench:servers`, `npm run bench:levers -- --server=NAME`). */
import { SHIPPED_SERVER, STOCK_SERVER, type ServerSetup } from './engines.js';

const dc = (...kv: string[]) => kv.flatMap((x) => ['--dynamic-config-value', x]);
const pragma = (...kv: string[]) => kv.flatMap((x) => ['--sqlite-pragma', x]);

/** The configurations tried (names are what `--only` takes). */
/**
 * The CLI's dev server re-reads the search-attribute definitions from the database on every use
 * (`system.forceSearchAttributesCacheRefreshOnRead` is on there, so new attributes show at once):
 * 2–3 `GetCurrentClusterMetadata` (+ `GetNamespace`) reads per describe, start with attributes or
 * upsert. Off, they come from a 60 s cache.
 */
const SA_CACHE = dc('system.forceSearchAttributesCacheRefreshOnRead=false');
const RPS1000 = dc('history.transferProcessorMaxPollRPS=1000');

export const SERVER_CONFIGS: ServerSetup[] = [
  STOCK_SERVER,
  { ...SHIPPED_SERVER, what: 'what the project ships (as `npm run server`: `DEV_SERVER_TUNING`, `DEV_SERVER_FILE_PRAGMAS`, SQLite file)' },
  {
    name: 'rps1000-file',
    what: '`transferProcessorMaxPollRPS=1000`, SQLite file with default pragmas (`npm run server` before this branch)',
    args: dc('history.transferProcessorMaxPollRPS=1000'),
    dbFile: true,
    ui: true,
  },
  {
    name: 'rps1000',
    what: '`transferProcessorMaxPollRPS=1000`, in memory',
    args: dc('history.transferProcessorMaxPollRPS=1000'),
    dbFile: false,
    ui: true,
  },
  { name: 'file', what: 'stock, SQLite file', args: [], dbFile: true, ui: true },
  {
    name: 'rps100',
    what: '`transferProcessorMaxPollRPS=100`',
    args: dc('history.transferProcessorMaxPollRPS=100'),
    dbFile: false,
    ui: true,
  },
  {
    name: 'rps200',
    what: '`transferProcessorMaxPollRPS=200`',
    args: dc('history.transferProcessorMaxPollRPS=200'),
    dbFile: false,
    ui: true,
  },
  {
    name: 'partitions1',
    what: '`matching.numTaskqueueRead/WritePartitions=1`',
    args: dc('matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'),
    dbFile: false,
    ui: true,
  },
  {
    name: 'rps1000-p1',
    what: '`transferProcessorMaxPollRPS=1000`, partitions 1',
    args: dc('history.transferProcessorMaxPollRPS=1000', 'matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'),
    dbFile: false,
    ui: true,
  },
  {
    name: 'file-wal',
    what: '`transferProcessorMaxPollRPS=1000`, SQLite file, `journal_mode=wal`, `synchronous=normal`',
    args: [...dc('history.transferProcessorMaxPollRPS=1000'), ...pragma('journal_mode=wal', 'synchronous=normal')],
    dbFile: true,
    ui: true,
  },
  {
    name: 'sa-cache',
    what: '`transferProcessorMaxPollRPS=1000`, search-attribute cache on, in memory',
    args: [...RPS1000, ...SA_CACHE],
    dbFile: false,
    ui: true,
  },
  {
    name: 'rps200-sa',
    what: '`transferProcessorMaxPollRPS=200`, search-attribute cache on',
    args: [...dc('history.transferProcessorMaxPollRPS=200'), ...SA_CACHE],
    dbFile: false,
    ui: true,
  },
  {
    name: 'sa-p1',
    what: '`transferProcessorMaxPollRPS=1000`, search-attribute cache on, task-queue partitions 1',
    args: [...RPS1000, ...SA_CACHE, ...dc('matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1')],
    dbFile: false,
    ui: true,
  },
  {
    name: 'sa-events',
    what: '`transferProcessorMaxPollRPS=1000`, search-attribute cache on, host-level events cache',
    args: [...RPS1000, ...SA_CACHE, ...dc('history.enableHostLevelEventsCache=true')],
    dbFile: false,
    ui: true,
  },
  {
    name: 'file-sa',
    what: '`transferProcessorMaxPollRPS=1000`, search-attribute cache on, SQLite file (default pragmas)',
    args: [...RPS1000, ...SA_CACHE],
    dbFile: true,
    ui: true,
  },
  {
    name: 'file-wal-sa',
    what: '`transferProcessorMaxPollRPS=1000`, search-attribute cache on, SQLite file, `journal_mode=wal`, `synchronous=normal`',
    args: [...RPS1000, ...SA_CACHE, ...pragma('journal_mode=wal', 'synchronous=normal')],
    dbFile: true,
    ui: true,
  },
  {
    name: 'file-off-sa',
    what: '`transferProcessorMaxPollRPS=1000`, search-attribute cache on, SQLite file, `journal_mode=wal`, `synchronous=off`',
    args: [...RPS1000, ...SA_CACHE, ...pragma('journal_mode=wal', 'synchronous=off')],
    dbFile: true,
    ui: true,
  },
  { ...SHIPPED_SERVER, name: 'shipped-headless', what: "the project's, without the Web UI", ui: false },
  { ...SHIPPED_SERVER, name: 'shipped-gogc50', what: "the project's, Go runtime `GOGC=50`", env: { GOGC: '50' } },
  { ...SHIPPED_SERVER, name: 'shipped-memlimit', what: "the project's, Go runtime `GOMEMLIMIT=160MiB`", env: { GOMEMLIMIT: '160MiB' } },
];
