# One image for every reelsmith process: `reelsmith api`, `reelsmith worker`,
# `reelsmith webhooks send` (see docker-compose.yml and docs/scale-out.md).
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

RUN useradd --create-home --uid 1000 reelsmith && mkdir -p /data && chown reelsmith /data
USER reelsmith
ENV REELSMITH_DATA_DIR=/data
EXPOSE 8000
CMD ["reelsmith", "api", "--host", "0.0.0.0", "--port", "8000"]
