// Read state: per-member channel markers with mention counts, thread markers, read receipts.
export { markChannelRead, sharesReadReceipts } from './commands/mark-channel-read.js';
export { markThreadRead } from './commands/mark-thread-read.js';
export { getChannelRead } from './commands/get-channel-read.js';
export { listReadReceipts } from './commands/list-read-receipts.js';
export { registerReadStateRoutes } from './routes/read-routes.js';
export type {
  ChannelReadState,
  ChannelReadSummary,
  ReadReceipt,
  ThreadReadState,
} from './presenters/read-state.js';
