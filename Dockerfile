# One image for every Lifeline process; docker-compose.yml picks the command (worker, reference
# agent, codec endpoint, CLI). It runs compiled JavaScript: no TypeScript and no tsx at run time.
# Configuration and secrets come from the environment at run time, never from the image.
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run -s build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci: exactly the lock, which lists every platform's native builds.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY migrations ./migrations
COPY --from=build /build/dist ./dist
USER node
EXPOSE 9464
CMD ["node", "dist/worker.js"]
