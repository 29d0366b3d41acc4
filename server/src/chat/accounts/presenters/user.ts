// Users on the wire: what anyone who shares a workspace sees, and what only the user sees.
import type { users } from '../../schema.js';

type UserRow = typeof users.$inferSelect;

export interface CustomStatusView {
  emoji: string;
  text: string;
  expiresAt: string | null;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
  statusMessage: string | null;
  customStatus: CustomStatusView | null;
  isBot: boolean;
  createdAt: string;
}

export interface OwnUserView extends UserView {
  email: string | null;
  notificationSettings: Record<string, unknown>;
  theme: string;
}

function customStatusOf(row: UserRow, nowMs: number): CustomStatusView | null {
  if (!row.customStatusEmoji && !row.customStatusText) return null;
  const expiresAt = row.customStatusExpiresAt;
  if (expiresAt && expiresAt.getTime() <= nowMs) return null;
  return {
    emoji: row.customStatusEmoji ?? '',
    text: row.customStatusText ?? '',
    expiresAt: expiresAt ? expiresAt.toISOString() : null,
  };
}

export function presentUser(row: UserRow, nowMs = Date.now()): UserView {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    avatarUrl: row.avatarUrl,
    statusMessage: row.statusMessage,
    customStatus: customStatusOf(row, nowMs),
    isBot: row.isBot,
    createdAt: row.createdAt.toISOString(),
  };
}

export function presentOwnUser(row: UserRow, nowMs = Date.now()): OwnUserView {
  return {
    ...presentUser(row, nowMs),
    email: row.email,
    notificationSettings: row.notificationSettings as Record<string, unknown>,
    theme: row.theme,
  };
}
