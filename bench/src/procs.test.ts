import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pinCommand } from './procs.js';

const cpusOf = (pid: number) =>
  /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe('pinCommand', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const undo of cleanup.splice(0)) undo();
  });

  it('pins every process of a name and gives them their CPUs back', async () => {
    // A copy of sleep under a name no other process has.
    const dir = mkdtempSync(join(tmpdir(), 'pin-'));
    const name = `pin${process.pid}`.slice(0, 15);
    copyFileSync('/bin/sleep', join(dir, name));
    const children = [0, 1].map(() => spawn(join(dir, name), ['30'], { stdio: 'ignore' }));
    cleanup.push(() => {
      for (const child of children) child.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    const pids = children.map((child) => child.pid!);
    const started = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
    for (let waited = 0; !pids.every(started) && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const before = cpusOf(pids[0]!);

    const undo = pinCommand(name, '0');
    for (const pid of pids) expect(cpusOf(pid)).toBe('0');
    undo();
    for (const pid of pids) expect(cpusOf(pid)).toBe(before);
  });

  it('says so when there is nothing to pin', () => {
    expect(() => pinCommand('no-such-process', '0')).toThrow(/no no-such-process process/);
  });
});
