// The SkillResponse an agent replies with (Kakao i Open Builder 2.0), checked before it is
// posted to the callback: Kakao answers a malformed one with FAIL after the single-use callback
// is spent, so the agent is better told now, with the field at fault. Limits are Kakao's
// (titles 50, button labels 14, at most 3 buttons, 1–3 outputs, ≤ 10 quick replies, carousels of
// 2–10, list cards of 2–5 items). Keys Kakao may add later pass through untouched.
import { z } from 'zod';

const text = (max: number) => z.string().max(max);

const link = z.looseObject({
  web: z.string().optional(),
  mobile: z.string().optional(),
  pc: z.string().optional(),
});

const button = z.looseObject({
  label: z.string().min(1).max(14),
  action: z.enum(['webLink', 'message', 'phone', 'block', 'share', 'operator', 'osLink']),
  webLinkUrl: z.string().optional(),
  messageText: z.string().optional(),
  phoneNumber: z.string().optional(),
  blockId: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

const buttons = z.array(button).max(3).optional();
const buttonLayout = z.enum(['vertical', 'horizontal']).optional();

const thumbnail = z.looseObject({
  imageUrl: z.string().min(1),
  altText: text(50).optional(),
  link: link.optional(),
  fixedRatio: z.boolean().optional(),
});

const simpleText = z.looseObject({ text: z.string().min(1).max(1000) });

const simpleImage = z.looseObject({ imageUrl: z.string().min(1), altText: text(50) });

const textCard = z.looseObject({
  title: text(50).optional(),
  description: text(400).optional(),
  buttons,
  buttonLayout,
});

const basicCard = z.looseObject({
  title: text(50).optional(),
  description: text(230).optional(),
  thumbnail,
  buttons,
  buttonLayout,
});

const commerceCard = z.looseObject({
  title: text(50).optional(),
  description: text(230).optional(),
  price: z.number().int().min(0),
  currency: z.string().optional(),
  discount: z.number().optional(),
  discountRate: z.number().optional(),
  discountedPrice: z.number().optional(),
  thumbnails: z.array(thumbnail).min(1).max(1),
  profile: z.looseObject({ nickname: z.string(), imageUrl: z.string().optional() }).optional(),
  buttons,
  buttonLayout,
});

const listItem = z.looseObject({
  title: text(50),
  description: z.string().optional(),
  imageUrl: z.string().optional(),
  link: link.optional(),
  action: z.enum(['block', 'message']).optional(),
  blockId: z.string().optional(),
  messageText: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

const listCard = z.looseObject({
  header: z.looseObject({ title: text(50) }),
  items: z.array(listItem).min(2).max(5),
  buttons,
  buttonLayout,
});

const itemCard = z.looseObject({
  title: text(50).optional(),
  description: z.string().optional(),
  thumbnail: thumbnail.optional(),
  head: z.looseObject({ title: text(50) }).optional(),
  profile: z
    .looseObject({ title: text(50).optional(), imageUrl: z.string().optional() })
    .optional(),
  imageTitle: z.looseObject({ title: text(50), description: z.string().optional() }).optional(),
  itemList: z
    .array(z.looseObject({ title: z.string(), description: z.string() }))
    .min(1)
    .max(10),
  itemListAlignment: z.enum(['left', 'right']).optional(),
  itemListSummary: z.looseObject({ title: z.string(), description: z.string() }).optional(),
  buttons,
  buttonLayout,
});

const CAROUSEL_CARDS = {
  basicCard,
  commerceCard,
  listCard,
  itemCard,
  textCard,
} as const;

const carousel = z
  .looseObject({
    type: z.enum(Object.keys(CAROUSEL_CARDS) as [keyof typeof CAROUSEL_CARDS]),
    header: z.looseObject({}).optional(),
    items: z.array(z.looseObject({})).min(2).max(10),
  })
  .superRefine((value, check) => {
    const card = CAROUSEL_CARDS[value.type];
    value.items.forEach((item, index) => {
      const parsed = card.safeParse(item);
      if (parsed.success) return;
      for (const issue of parsed.error.issues) {
        check.addIssue({
          code: 'custom',
          path: ['items', index, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
          message: issue.message,
        });
      }
    });
  });

export const OUTPUT_COMPONENTS = {
  simpleText,
  simpleImage,
  textCard,
  basicCard,
  commerceCard,
  listCard,
  itemCard,
  carousel,
} as const;

type ComponentName = keyof typeof OUTPUT_COMPONENTS;

const isComponent = (name: string): name is ComponentName =>
  Object.prototype.hasOwnProperty.call(OUTPUT_COMPONENTS, name);

/** One output: an object with exactly one key, the component's name. */
const output = z.record(z.string(), z.unknown()).superRefine((value, check) => {
  const names = Object.keys(value);
  if (names.length !== 1) {
    check.addIssue({
      code: 'custom',
      message: `an output has exactly one component (one of ${Object.keys(OUTPUT_COMPONENTS).join(', ')})`,
    });
    return;
  }
  const name = names[0]!;
  if (!isComponent(name)) {
    check.addIssue({ code: 'custom', path: [name], message: `unknown output component "${name}"` });
    return;
  }
  const parsed = OUTPUT_COMPONENTS[name].safeParse(value[name]);
  if (parsed.success) return;
  for (const issue of parsed.error.issues) {
    check.addIssue({
      code: 'custom',
      path: [name, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      message: issue.message,
    });
  }
});

const quickReply = z.looseObject({
  label: z.string().min(1).max(14),
  action: z.enum(['message', 'block']),
  messageText: z.string().optional(),
  blockId: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

export const skillResponseSchema = z.looseObject({
  version: z.literal('2.0'),
  template: z
    .looseObject({
      outputs: z.array(output).min(1).max(3),
      quickReplies: z.array(quickReply).max(10).optional(),
    })
    .optional(),
  context: z
    .looseObject({
      values: z.array(
        z.looseObject({
          name: z.string().min(1),
          lifeSpan: z.number().int().min(0),
          ttl: z.number().int().min(0).optional(),
          params: z.record(z.string(), z.string()).optional(),
        }),
      ),
    })
    .optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export type SkillResponse = z.infer<typeof skillResponseSchema>;
