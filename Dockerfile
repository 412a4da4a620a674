# One image for every bookjobs process; docker-compose.yml picks the sub-command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY setup.cfg pyproject.toml README.md ./
COPY actors ./actors
COPY broker ./broker
COPY periodic ./periodic
COPY domain ./domain
COPY dashboard ./dashboard
RUN pip install . && useradd --create-home bookjobs && mkdir -p /data/media /data/outbox \
    && chown -R bookjobs /data

USER bookjobs
ENV MEDIA_ROOT=/data/media MAIL_OUTBOX_DIR=/data/outbox
# docker-compose.yml names each service's command; alone, the image runs workers
# (`bookjobs up` would bind its dashboard to the container's own loopback, out of reach).
CMD ["bookjobs", "worker"]
