# One image for Glint's Node services; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY . .
RUN npm run build
USER node
EXPOSE 8080
CMD ["node", ".build/api.mjs"]
