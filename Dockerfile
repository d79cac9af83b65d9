FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
ENV FAULTLINE_DATA_DIR=/data
VOLUME /data
EXPOSE 1883 8080
# Exec form and node itself, no npx or tsx process in between: SIGTERM from `docker stop` reaches Faultline (issue 9)
CMD ["node", "bin/faultline.js", "start"]
