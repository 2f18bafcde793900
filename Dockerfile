# One image for Glint's services: the Node ones (the SFU, the recorder, or the embedded whole) and the API on Deno
# (the deno npm package, a dependency, ships its binary); docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# FFmpeg bridges RTMP into the SFU (and records, with the recorder)
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY . .
RUN npm run build
# DATA_DIR in docker-compose: a named volume starts as a copy of the image's directory, owner included, so /data must
# exist and belong to node before the VOLUME line (changes after it are discarded) or recordings fail with EACCES
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080 1935 40000-40015/udp 40000-40015/tcp
CMD ["node", ".build/api.mjs"]
