import { describe, expect, it } from 'vitest';
import { parseCommand } from './parse.js';

describe('parseCommand', () => {
  it('reads the command word case-insensitively after trimming', () => {
    expect(parseCommand('/help')).toEqual({ name: 'help' });
    expect(parseCommand('  /STATUS \n')).toEqual({ name: 'status' });
    expect(parseCommand('/Unpair')).toEqual({ name: 'unpair' });
    expect(parseCommand('/code')).toEqual({ name: 'code' });
  });

  it('gives /pair the rest of the utterance as its code, possibly empty', () => {
    expect(parseCommand('/pair ABCD-2345')).toEqual({ name: 'pair', code: 'ABCD-2345' });
    expect(parseCommand('/PAIR  abcd 2345 ')).toEqual({ name: 'pair', code: 'abcd 2345' });
    expect(parseCommand('/pair')).toEqual({ name: 'pair', code: '' });
    expect(parseCommand('/pair\nABCD-2345')).toEqual({ name: 'pair', code: 'ABCD-2345' });
  });

  it('leaves everything else to the agent', () => {
    for (const utterance of ['hello', '', '/', '/help me', '/pairing X', '/status?', 'x /help']) {
      expect(parseCommand(utterance), utterance).toBeUndefined();
    }
  });
});
