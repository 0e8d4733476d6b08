# agent-runner worker (and codec server) image.
#   docker build -t agent-runner .
#   docker run -e TEMPORAL_ADDRESS=… -e ANTHROPIC_API_KEY=… agent-runner
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    AGENT_RUNNER_WORKFLOW_BUNDLE=/app/.artifacts/workflow-bundle.js

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY contract ./contract
COPY connection ./connection
COPY agents ./agents
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker
COPY client ./client
COPY scripts ./scripts
COPY tsconfig.json ./

# Bundle the workflows once at build time: workers start without webpack.
RUN node --import tsx scripts/build-bundle.ts "$AGENT_RUNNER_WORKFLOW_BUNDLE"

RUN mkdir -p /data && chown node:node /data
USER node
# SIGTERM (docker stop) drains the worker: in-flight activities get AGENT_RUNNER_SHUTDOWN_GRACE.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "worker/main.ts"]
