# The platform's image: the web (gunicorn), worker and beat of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app

COPY pyproject.toml README.md ./
COPY config config
COPY platform_core platform_core
COPY registries registries
COPY integration integration
COPY measures measures
COPY treasury treasury
COPY frontoffice frontoffice
COPY contact_center contact_center
COPY insurers insurers
COPY analytics analytics
COPY locale locale
COPY templates templates
COPY manage.py ./
RUN pip install . && useradd --system --uid 1000 platform
RUN DJANGO_SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-000000000000 \
    DATABASE_URL=postgres://build@localhost/build CACHE_URL=redis://build:6379/1 \
    python manage.py collectstatic --noinput

USER platform
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
