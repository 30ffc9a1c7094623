"""The deployment files stay correct: no Docker engine runs here, so they are read and checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_and_a_migration_step():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "migrate"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    # The worker listens to every queue tasks are routed to.
    from django.conf import settings

    queues = set(
        services["worker"]["command"][services["worker"]["command"].index("-Q") + 1].split(",")
    )
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= queues
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_app_services_use_production_settings_and_the_compose_database_and_broker():
    services = compose()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
    # Migrations wait for healthy services; everything else waits for the migrations.
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_every_environment_variable_the_settings_read_is_documented_in_the_readme():
    read = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        read |= set(re.findall(r'env(?:_bool|_list)?\("([A-Z_]+)"', path.read_text()))
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(name for name in read if f"`{name}`" not in readme)
    assert not undocumented, f"settings not documented in README.md: {undocumented}"


def test_dockerfile_copies_every_app_of_production_and_no_emulator():
    dockerfile = (ROOT / "Dockerfile").read_text()
    from config.settings import base

    # Production settings install the apps of base; dev and test add the emulated peers.
    ours = [app for app in base.INSTALLED_APPS if (ROOT / app).is_dir()]
    missing = [app for app in ours if f"COPY {app} {app}" not in dockerfile]
    assert not missing
    assert "emulators" not in base.INSTALLED_APPS
    assert "emulators" not in dockerfile


def test_production_settings_refuse_a_missing_secret_key():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production';"
            "import django; django.setup()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x@localhost/x"},
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "refusal"),
    [
        ("CACHE_URL", "", "CACHE_URL must name a Redis database"),
        ("PORTAL_DEMO_LOGIN", "true", "PORTAL_DEMO_LOGIN lets anyone in"),
        ("PORTAL_OIDC_TOKEN_URL", "http://idp.example/token", "must be https"),
    ],
)
def test_production_settings_refuse_shared_counters_missing_the_demo_login_and_plain_http(
    setting, value, refusal
):
    """Attempt limits in one process's memory, a passwordless demo login, or an identity
    provider reached without TLS would each leave a real deployment open."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgres://x@localhost/x",
        "DJANGO_SECRET_KEY": "x" * 50,
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "PORTAL_OIDC_CLIENT_ID": "portal",
        "PORTAL_OIDC_CLIENT_SECRET": "secret",
        "PORTAL_OIDC_AUTHORIZATION_URL": "https://idp.example/authorize",
        "PORTAL_OIDC_TOKEN_URL": "https://idp.example/token",
        "PORTAL_OIDC_USERINFO_URL": "https://idp.example/userinfo",
        "PORTAL_OIDC_JWKS_URL": "https://idp.example/jwks",
        "PORTAL_OIDC_ISSUER": "https://idp.example",
    }
    script = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production';"
        "import django; django.setup(); print('configured')"
    )

    def run(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )

    assert run(env).stdout.strip() == "configured"  # the same settings, right, are taken
    refused = run({**env, setting: value})
    assert refused.returncode != 0
    assert refusal in refused.stderr


def test_the_images_build_step_loads_the_production_settings_with_its_environment():
    """The Dockerfile's collectstatic runs under the production settings with only the
    variables its RUN line sets: every setting those refuse to start without is there."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    step = re.search(r"RUN (DJANGO_SECRET_KEY=.*?manage.py collectstatic)", dockerfile, re.S)
    assert step, "the build step that collects static files"
    variables = dict(re.findall(r"([A-Z_]+)=(\S+)", step.group(1)))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); print('configured')",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            **variables,
        },
        check=False,
    )
    assert result.stdout.strip() == "configured", result.stderr[-2000:]
