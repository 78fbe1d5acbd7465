# One image for every Lifeline process; docker-compose.yml picks the command (worker, reference
# agent, codec endpoint, CLI). TypeScript runs through tsx, so there is no build step to drift.
# Configuration and secrets come from the environment at run time, never from the image.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci: exactly the lock, which lists every platform's native builds.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
USER node
EXPOSE 9464
CMD ["node", "--import", "tsx", "src/worker.ts"]
