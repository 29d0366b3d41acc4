# syntax=docker/dockerfile:1
# Switchboard server image: build every workspace once, ship only what `switchboard serve` needs.
# server/src/deploy-files.test.ts keeps this file, compose.yaml and fly.toml in agreement.

# ---- build ------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

# Manifests first: the dependency layer is reused until one of them changes.
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/client/package.json packages/client/
COPY server/package.json server/
COPY web/package.json web/
COPY bench/package.json bench/
COPY e2e/package.json e2e/
RUN npm ci --no-audit --no-fund

# Sources (.dockerignore keeps out node_modules, build output, data and local secrets). config/
# holds optional YAML layers; it is created when the checkout has none so the runtime COPY works.
COPY . .
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && mkdir -p config

# ---- runtime ----------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/app/data
WORKDIR /app

# Application files stay owned by root (read-only to the server); only DATA_DIR is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages/protocol/package.json ./packages/protocol/package.json
COPY --from=build /app/packages/protocol/dist ./packages/protocol/dist
# The gRPC PushService definition, loaded at run time.
COPY --from=build /app/packages/protocol/proto ./packages/protocol/proto
COPY --from=build /app/packages/client/package.json ./packages/client/package.json
COPY --from=build /app/packages/client/dist ./packages/client/dist
COPY --from=build /app/server/package.json ./server/package.json
COPY --from=build /app/server/bin ./server/bin
COPY --from=build /app/server/dist ./server/dist
COPY --from=build /app/server/migrations ./server/migrations
# The relay console's placeholder pages (RELAY_STATIC_DIR replaces them with real builds).
COPY --from=build /app/server/static ./server/static
COPY --from=build /app/config ./config
RUN mkdir -p /app/data && chown node:node /app/data

USER node
# 8080: HTTP (REST, WebSocket, SSE, health); 15091: gRPC push service.
EXPOSE 8080 15091

# Liveness only: readiness (/readyz) belongs to the load balancer, so a database outage does not
# get every instance restarted at once. Slim images have no curl; node's fetch does the job.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:${PORT:-8080}/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

# First SIGTERM drains (readiness 503, streams told to reconnect elsewhere) and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "server/bin/switchboard.js", "serve"]
