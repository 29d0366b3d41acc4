// DMs and group DMs: channels of a fixed set of people, found or created by that set.
export { registerDmRoutes } from './routes/dm-routes.js';
export { getDm } from './commands/get-dm.js';
export { openDm } from './commands/open-dm.js';
export { presentDm, UNREAD_COUNT_CAP, type DmView } from './presenters/dm.js';
