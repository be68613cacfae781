# AI Factory: one image for every role; the command picks the role.
#   node dist/db/migrate.js     one-shot: apply SQL migrations, then exit
#   node dist/factory/api-server.js     Hono API on $PORT (default command)
#   node dist/factory/worker-cpu.js    Temporal worker, task queue factory-cpu
#   node dist/factory/worker-gpu.js    Temporal worker, task queue factory-gpu
#
# Build args:
#   TFJS_GPU=true        install @tensorflow/tfjs-node-gpu (libtensorflow 2.9.1, linux/amd64 only).
#                        It needs the CUDA 11.x runtime + cuDNN 8 *in the runtime image*, so use it
#                        together with RUNTIME_IMAGE. Without it the GPU worker trains on tfjs wasm.
#   FACTORY_GIT_SHA      git commit recorded as the code version of training runs (lineage).
#   RUNTIME_IMAGE        base of the final stage; must provide Node 20 (glibc based). For a GPU image,
#                        use one built FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 (or similar)
#                        with Node 20 installed. The host needs the NVIDIA Container Toolkit.
# Example GPU build:
#   docker build --build-arg TFJS_GPU=true --build-arg RUNTIME_IMAGE=my/node20-cuda11-cudnn8 -t ai-factory:gpu .

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile TypeScript, bundle the workflows ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: nothing the build needs runs an install script (esbuild and swc load their
# platform binaries from optional packages), and it stops the optional @tensorflow/tfjs-node-gpu
# from downloading libtensorflow-gpu into a build stage that never uses it.
RUN npm ci --ignore-scripts
COPY . .
# tsc -> dist/, then dist/workflow-bundle.js
RUN npm run build

# ---- deps: production dependencies only ----
FROM ${NODE_IMAGE} AS deps
ARG TFJS_GPU=false
WORKDIR /app
# .npmrc keeps onnxruntime-node-install=skip (CPU build, no CUDA download).
# TFJS_GPU=true: `npm rebuild` runs only tfjs-node-gpu's install script (downloads libtensorflow-gpu
# and its prebuilt binding). Otherwise the package is removed and the GPU worker uses the wasm
# backend (and says so in its log). The macOS/Windows native binaries of onnxruntime-node and the
# Temporal core bridge are never loaded in a Linux container, so they go too (~300 MB).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts \
 && if [ "$TFJS_GPU" = "true" ]; then \
      npm rebuild @tensorflow/tfjs-node-gpu; \
    else \
      rm -rf node_modules/@tensorflow/tfjs-node-gpu; \
    fi \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin \
           node_modules/onnxruntime-node/bin/napi-v*/win32 \
           node_modules/@temporalio/core-bridge/releases/*-apple-darwin \
           node_modules/@temporalio/core-bridge/releases/*-windows-* \
 && npm cache clean --force

# ---- runtime ----
FROM ${RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    FACTORY_HOME=/var/lib/ai-factory \
    ARTIFACT_STORE=file:///var/lib/ai-factory/artifacts
WORKDIR /app

# Non-root user. FACTORY_HOME (and the artifact directory a named volume is mounted on) belong to
# it, so a fresh named volume is initialised with the right owner. Code stays root-owned (read-only).
RUN groupadd --gid 10001 factory \
 && useradd --uid 10001 --gid factory --home-dir /var/lib/ai-factory --no-create-home \
            --shell /usr/sbin/nologin factory \
 && mkdir -p /var/lib/ai-factory/artifacts \
 && chown -R factory:factory /var/lib/ai-factory

COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
# db/client.ts resolves migrations next to its compiled file (dist/db/migrations); tsc copies no
# .sql files, so put them there, and at db/migrations for tools that look in the source layout.
COPY --from=build /app/db/migrations ./dist/db/migrations
COPY --from=build /app/db/migrations ./db/migrations

# Recorded as the code version of every training run (platform/code-version.ts); the image has no
# .git. Pass e.g. --build-arg FACTORY_GIT_SHA=$(git rev-parse --short=12 HEAD). Last, so a new
# commit does not invalidate the layers above.
ARG FACTORY_GIT_SHA=
ENV FACTORY_GIT_SHA=${FACTORY_GIT_SHA}

USER factory
EXPOSE 3000
CMD ["node", "dist/factory/api-server.js"]
