// What every relay command and route needs, built once by `createRelay`.
import type { ApplicationContext } from '../application-module.js';

export type RelayContext = ApplicationContext;
