// What every chat command and route needs, built once by `createChat`.
import type { ApplicationContext } from '../application-module.js';

export type ChatContext = ApplicationContext;
