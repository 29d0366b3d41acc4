// `switchboard seed-demo`: a workspace to try the chat with — people who sign in with a known
// password, public and private channels, a DM, and messages with a thread, reactions, a pin and
// mentions. Everything goes through the chat commands, so events, seqs and counters are what
// real use would produce. Running it again changes nothing: people, the workspace and channels
// are looked up first, and every message carries a clientMsgId the send command dedupes on.
import { and, eq, isNull } from 'drizzle-orm';
import { register } from './accounts/commands/register.js';
import { createChannel } from './channels/commands/create-channel.js';
import { joinChannel } from './channels/commands/join-channel.js';
import type { ChatContext } from './context.js';
import { openDm } from './dms/commands/open-dm.js';
import { setPinned } from './messages/commands/pin-message.js';
import { addReaction } from './messages/commands/react.js';
import { sendMessage } from './messages/commands/send-message.js';
import { channels, users, workspaceMembers, workspaces } from './schema.js';
import { acceptInvite } from './workspaces/commands/accept-invite.js';
import { createInvite } from './workspaces/commands/create-invite.js';
import { createWorkspace, GENERAL_CHANNEL_NAME } from './workspaces/commands/create-workspace.js';

export const DEMO_PASSWORD = 'switchboard-demo';
export const DEMO_WORKSPACE_SLUG = 'demo';

const PEOPLE = [
  { name: 'ada', displayName: 'Ada Lovelace' },
  { name: 'grace', displayName: 'Grace Hopper' },
  { name: 'linus', displayName: 'Linus Chen' },
  { name: 'mina', displayName: '김민아' },
] as const;

type Username = (typeof PEOPLE)[number]['name'];

/** Demo accounts are `demo-<name>`, so they never take a real person's handle. */
const usernameOf = (name: string) => `demo-${name}`;

export interface DemoSummary {
  workspace: { id: string; slug: string; name: string };
  users: { username: string; email: string; id: string; created: boolean }[];
  password: string;
  channels: string[];
  messagesCreated: number;
}

export async function seedDemo(ctx: ChatContext): Promise<DemoSummary> {
  const people = new Map<Username, string>();
  const summaryUsers: DemoSummary['users'] = [];
  for (const person of PEOPLE) {
    const username = usernameOf(person.name);
    const email = `${username}@example.com`;
    const [existing] = await ctx.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.username, username));
    let id = existing?.id;
    if (!id) {
      const created = await register(
        ctx,
        { email, username, password: DEMO_PASSWORD, displayName: person.displayName },
        { ip: undefined, userAgent: 'switchboard seed-demo' },
      );
      id = created.user.id;
    }
    people.set(person.name, id);
    summaryUsers.push({ username, email, id, created: !existing });
  }
  const who = (name: Username) => people.get(name)!;
  const owner = who('ada');

  const [found] = await ctx.db
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.slug, DEMO_WORKSPACE_SLUG), eq(workspaces.createdBy, owner)));
  const workspaceId =
    found?.id ??
    (await createWorkspace(ctx, owner, { name: 'Demo', slug: DEMO_WORKSPACE_SLUG })).id;
  const [workspace] = await ctx.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!workspace) throw new Error('the demo workspace vanished while seeding');
  for (const name of ['grace', 'linus', 'mina'] as const) {
    const [member] = await ctx.db
      .select({ role: workspaceMembers.role })
      .from(workspaceMembers)
      .where(
        and(eq(workspaceMembers.workspaceId, workspace.id), eq(workspaceMembers.userId, who(name))),
      );
    if (member) continue;
    const invite = await createInvite(ctx, owner, workspace.id, {});
    await acceptInvite(ctx, who(name), { code: invite.code });
  }

  const channelNamed = async (name: string) =>
    (
      await ctx.db
        .select({ id: channels.id })
        .from(channels)
        .where(
          and(
            eq(channels.workspaceId, workspace.id),
            eq(channels.name, name),
            isNull(channels.deletedAt),
          ),
        )
    )[0]?.id;
  const ensureChannel = async (
    name: string,
    kind: 'public' | 'private',
    topic: string,
    memberIds: string[],
  ) =>
    (await channelNamed(name)) ??
    (await createChannel(ctx, owner, workspace.id, { name, kind, topic, memberIds })).id;

  const general = (await channelNamed(GENERAL_CHANNEL_NAME))!;
  for (const name of ['grace', 'linus', 'mina'] as const)
    await joinChannel(ctx, who(name), general);
  const engineering = await ensureChannel('engineering', 'public', 'Builds, deploys and code', [
    who('grace'),
    who('linus'),
  ]);
  const leads = await ensureChannel('leads', 'private', 'Planning (private)', [who('grace')]);
  const dm = (await openDm(ctx, owner, { workspaceId: workspace.id, userIds: [who('grace')] })).dm
    .id;

  let messagesCreated = 0;
  const say = async (
    key: string,
    author: Username,
    channelId: string,
    body: string,
    threadRootId?: string,
  ) => {
    const { message, created } = await sendMessage(ctx, who(author), {
      channelId,
      body,
      clientMsgId: `demo-${key}`,
      ...(threadRootId ? { threadRootId } : {}),
    });
    if (created) messagesCreated += 1;
    return message.id;
  };

  const welcome = await say(
    'welcome',
    'ada',
    general,
    'Welcome to the **Switchboard** demo, @channel! Say hi 👋',
  );
  await say('hi-grace', 'grace', general, 'Hi all! Glad to be here.');
  await say('hi-mina', 'mina', general, '안녕하세요! 반갑습니다. 오늘 회의는 3시예요.');
  const deploy = await say(
    'deploy',
    'linus',
    engineering,
    'Deploy of `parseHttpRequest` fix is out: https://example.com/releases/1.4.2',
  );
  await say('deploy-reply-1', 'grace', engineering, 'Nice! Did the latency graphs settle?', deploy);
  await say(
    'deploy-reply-2',
    'linus',
    engineering,
    '@demo-grace yes, p99 is back under 40 ms.',
    deploy,
  );
  await say('plan', 'ada', leads, 'Roadmap draft for next quarter is in the doc, @demo-grace.');
  await say('dm', 'grace', dm, 'Ada, got a minute to review the search ranking?');

  await addReaction(ctx, who('grace'), welcome, '🎉');
  await addReaction(ctx, who('linus'), welcome, '🎉');
  await addReaction(ctx, who('mina'), welcome, ':wave:');
  await addReaction(ctx, who('ada'), deploy, '🚀');
  await setPinned(ctx, owner, welcome, true);

  return {
    workspace: { id: workspace.id, slug: workspace.slug, name: workspace.name },
    users: summaryUsers,
    password: DEMO_PASSWORD,
    channels: [`#${GENERAL_CHANNEL_NAME}`, '#engineering', '#leads (private)', 'DM ada ↔ grace'],
    messagesCreated,
  };
}
