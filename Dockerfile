FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
USER node
CMD ["npx", "tsx", "src/worker.ts"]
