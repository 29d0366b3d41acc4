// Loads packages/protocol/proto/push.proto, the one definition servers and clients share.
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** The same relative place from server/src and server/dist, in the repo and in the image. */
export const pushProtoPath = fileURLToPath(
  new URL('../../../../packages/protocol/proto/push.proto', import.meta.url),
);

/** Loading options: camelCase fields (`userIds`), uint64 as JS numbers, defaults filled in. */
export const pushProtoOptions = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/** The `switchboard.push.v1.PushService` definition (its `.service` is what servers add). */
export function loadPushService(): ServiceClientConstructor {
  const definition = loadPackageDefinition(
    loadSync(pushProtoPath, pushProtoOptions),
  ) as unknown as {
    switchboard: { push: { v1: { PushService: ServiceClientConstructor } } };
  };
  return definition.switchboard.push.v1.PushService;
}
