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
# Exec form and node itself, no npx or tsx process in between: SIGTERM from `docker stop` reaches Faultline (issue 9)
CMD ["node", "bin/faultline.js", "start"]
