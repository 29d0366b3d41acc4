// Invite codes: 192 random bits shown once; only their SHA-256 is stored (the entropy makes a
// slow hash pointless).
import { createHash, randomBytes } from 'node:crypto';

export const newInviteCode = (): string => `sbi_${randomBytes(24).toString('base64url')}`;

export const inviteCodeHash = (code: string): string =>
  createHash('sha256').update(code).digest('hex');
