FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
# The ops console's assets, built into the image (npm ci's prepare ran before the sources were copied in)
RUN npm run build:console
ENV FAULTLINE_DATA_DIR=/data
VOLUME /data
EXPOSE 1883 8080
# Exec form and node itself, no npx or tsx process in between: SIGTERM from `docker stop` reaches Faultline (issue 9).
# A 64 MB young generation, as `npm start` runs it: ingest allocates fast and short-lived (README, Performance).
CMD ["node", "--max-semi-space-size=64", "bin/faultline.js", "start"]
