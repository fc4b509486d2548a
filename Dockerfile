# syntax=docker/dockerfile:1
# The Faultline collector as an image: built JavaScript, migrations and the dashboard's files, run
# by plain Node as the unprivileged `node` user. No source tree, no TypeScript, no dev tools.
#   docker build -t faultline .
#   docker run -p 4318:4318 -e FAULTLINE_INGEST_KEYS=… -e FAULTLINE_API_TOKEN=… faultline

# ── build: install everything, build every package ─────────────────────────────────────────────
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY schema/package.json schema/
COPY sdk/package.json sdk/
COPY collector/package.json collector/
COPY scenarios/package.json scenarios/
COPY dashboard/package.json dashboard/
COPY test/package.json test/
# --ignore-scripts: the root `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY schema schema
COPY sdk sdk
COPY collector collector
COPY scenarios scenarios
COPY dashboard dashboard
RUN npm run build

# ── runtime: production dependencies of the collector and the scenario runner, and the builds ──
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY schema/package.json schema/
COPY sdk/package.json sdk/
COPY collector/package.json collector/
COPY scenarios/package.json scenarios/
COPY dashboard/package.json dashboard/
COPY test/package.json test/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace @faultline/collector --workspace @faultline/scenarios \
  && npm cache clean --force
COPY --from=build /app/schema/dist schema/dist
COPY --from=build /app/sdk/dist sdk/dist
COPY --from=build /app/collector/dist collector/dist
COPY --from=build /app/collector/drizzle collector/drizzle
COPY --from=build /app/scenarios/dist scenarios/dist
COPY --from=build /app/dashboard/dist dashboard/dist
RUN mkdir -p /data && chown node:node /data
USER node
# Listens beyond loopback, so FAULTLINE_INGEST_KEYS and FAULTLINE_API_TOKEN must be set (or
# FAULTLINE_ALLOW_INSECURE=1 behind a trusted network); the collector refuses to start otherwise.
ENV HOST=0.0.0.0 PORT=4318 FAULTLINE_GRPC_PORT=4317 FAULTLINE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 4318 4317
HEALTHCHECK --interval=10s --timeout=5s --retries=30 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4318)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "collector/dist/cli.js"]
CMD ["serve"]
