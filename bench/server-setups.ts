/** Dev-server configurations the benches compare (`npm run bench:servers`, `npm run bench:levers -- --server=NAME`). */
import { DEV_SERVER_TUNING } from '../scripts/dev-server.js';
import { STOCK_SERVER, type ServerSetup } from './engines.js';

const dc = (...kv: string[]) => kv.flatMap((x) => ['--dynamic-config-value', x]);
const pragma = (...kv: string[]) => kv.flatMap((x) => ['--sqlite-pragma', x]);

/** The configurations tried (names are what `--only` takes). */
export const SERVER_CONFIGS: ServerSetup[] = [
  STOCK_SERVER,
  { name: 'shipped', what: '`DEV_SERVER_TUNING`, SQLite file (as `npm run server`)', args: DEV_SERVER_TUNING, dbFile: true, ui: true },
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
];
