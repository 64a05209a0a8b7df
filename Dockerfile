# One image for every reelsmith process: `reelsmith api`, `reelsmith worker`,
# `reelsmith webhooks send` (see docker-compose.yml and docs/scale-out.md).
# Kokoro-82M's voices come from the npm package kokoro-js (as `make install` fetches them).
FROM node:20-bookworm-slim AS kokoro-voices
WORKDIR /voices
RUN npm pack --silent kokoro-js@1.2.1 \
    && echo "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860  kokoro-js-1.2.1.tgz" | sha256sum --check \
    && mkdir out && tar -xzf kokoro-js-1.2.1.tgz -C out --strip-components=2 package/voices

FROM python:3.11-slim-bookworm

# The Video Translation engines (espeak-ng, Apertium pairs) and caption fonts, as `make
# system-packages` installs them; ffmpeg comes with the imageio-ffmpeg wheel.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        espeak-ng apertium apertium-eng-spa apertium-eng-cat apertium-eo-en apertium-fr-es apertium-es-pt apertium-spa-ita \
        fonts-dejavu-core fonts-noto-cjk libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY reelsmith ./reelsmith
RUN pip install --no-cache-dir .
# Where the server looks for them by default: <python prefix>/share/reelsmith/kokoro-js-1.2.1/voices.
COPY --from=kokoro-voices /voices/out /usr/local/share/reelsmith/kokoro-js-1.2.1/voices

RUN useradd --create-home --uid 1000 reelsmith && mkdir -p /data && chown reelsmith /data
USER reelsmith
ENV REELSMITH_DATA_DIR=/data
EXPOSE 8000
CMD ["reelsmith", "api", "--host", "0.0.0.0", "--port", "8000"]
