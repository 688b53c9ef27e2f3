# s3emu in a container. Every setting comes from the environment (S3EMU_*, see README "Settings"):
#   docker build -t s3emu .
#   docker run -p 9000:9000 -v s3emu-data:/data -e S3EMU_BUCKETS=uploads s3emu
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    S3EMU_HOST=0.0.0.0 \
    S3EMU_PORT=9000 \
    S3EMU_DATA_DIR=/data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY s3emu ./s3emu
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin s3emu \
    && mkdir -p /data && chown s3emu:s3emu /data

USER s3emu
WORKDIR /data
VOLUME /data
EXPOSE 9000
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["s3emu", "health"]
ENTRYPOINT ["s3emu", "serve"]
