# syntax=docker/dockerfile:1
# The image of any one service (user, coupon, issue, issue-consumer: its folder under services/).
# Build from the repository root:
#   docker build --build-arg SERVICE=user -t coupon-user .
# skaffold.yaml and the Tiltfile pass SERVICE the same way.
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no compile step. Node refuses
# to strip types from files under node_modules, and `pnpm deploy` copies the workspace packages exactly
# there; so the image keeps the workspace layout instead and installs only this service's production
# dependency graph (`--filter-prod <service>...`: the service, the workspace packages it depends on, and
# their registry dependencies; no dev dependencies, no other service).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
ARG SERVICE
# Without it the COPY below would take services/ whole and build no service in particular.
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<folder under services/>" >&2; exit 1; }
ENV CI=true
WORKDIR /app
# The pnpm version of package.json's packageManager field.
RUN npm install --global --no-fund --no-audit pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
# Registry packages come from the lockfile alone, so this layer is reused until the lockfile changes.
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store pnpm fetch --prod
COPY packages ./packages
COPY lua ./lua
COPY services/${SERVICE} ./services/${SERVICE}
# Each service's package is named after its folder.
ARG PACKAGE=@coupon/${SERVICE}-service
# Install scripts are skipped: the only one the service needs is the Prisma client generation below
# (it runs offline; see packages/db/scripts/prisma.ts).
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --offline --frozen-lockfile --prod --ignore-scripts --filter-prod "${PACKAGE}..."
RUN if pnpm list -r --filter-prod "${PACKAGE}..." --depth -1 --parseable | grep -qx /app/packages/db; then \
      pnpm --filter @coupon/db run generate; \
    fi
# Drop the workspace projects outside the service's production graph.
RUN pnpm list -r --filter-prod "${PACKAGE}..." --depth -1 --parseable > /tmp/keep \
 && for dir in packages/* services/*; do grep -qx "/app/$dir" /tmp/keep || rm -rf "$dir"; done \
 && rm -rf patches

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# Files stay owned by root and read-only for the service, which runs as the image's unprivileged
# `node` user (numeric, so that Kubernetes' runAsNonRoot can verify it).
COPY --from=build /app /app
USER 1000:1000
ARG SERVICE
WORKDIR /app/services/${SERVICE}
# No EXPOSE: each service's port is set by its PORT variable (the chart's containerPort).
# Telemetry is loaded before the service's modules (it stays off unless OTEL_* names an exporter).
CMD ["node", "--import", "@coupon/telemetry/register", "src/server.ts"]
