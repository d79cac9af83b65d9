FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
ENV FAULTLINE_DATA_DIR=/data
VOLUME /data
EXPOSE 1883 8080
CMD ["npx", "tsx", "src/main.ts"]
