import { describe, expect, it } from 'vitest';
import { parseOptions } from './options.js';

describe('parseOptions', () => {
  it('defaults to every scenario and system', () => {
    const o = parseOptions([]);
    expect(o).toMatchObject({
      scenarios: ['A', 'B', 'C'],
      systems: ['switchboard', 'socketio', 'ws', 'ws-redis'],
      subscribers: [1000, 5000],
      nodes: 2,
      rate: 20_000,
    });
  });

  it('reads flags', () => {
    const o = parseOptions([
      '--scenario=a,c',
      '--subscribers=1000',
      '--systems=switchboard,ws',
      '--publish=broker',
    ]);
    expect(o).toMatchObject({
      scenarios: ['A', 'C'],
      subscribers: [1000],
      systems: ['switchboard', 'ws'],
      publish: 'broker',
    });
  });

  it('refuses unknown flags and out-of-range values', () => {
    expect(parseOptions(['--scenario=D'])).toHaveProperty('error');
    expect(parseOptions(['--subscribers=0'])).toHaveProperty('error');
    expect(parseOptions(['--subscribers=1.5'])).toHaveProperty('error');
    expect(parseOptions(['--frobnicate=1'])).toHaveProperty('error');
    expect(parseOptions(['positional'])).toHaveProperty('error');
    expect(parseOptions(['--publish=carrier-pigeon'])).toHaveProperty('error');
    expect(parseOptions(['--help'])).toEqual({ help: true });
  });
});
