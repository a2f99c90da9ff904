"""Production settings come from environment variables alone and pass Django's deployment checks."""

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.postgres import ROOT

# Hosts that do not exist: neither command below opens a connection to them.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "crowdswap.example.com",
    "SITE_URL": "https://crowdswap.example.com",
    "DATABASE_URL": "postgres://crowdswap:secret@db.internal:5432/crowdswap",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "AWS_STORAGE_BUCKET_NAME": "crowdswap-media",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """Return a host's environment: production variables and nothing inherited that could change settings."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(50), CROWDSWAP_VAR_DIR=str(tmp_path / "var"))
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_check_deploy_is_clean_with_production_variables(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_production_variables_switch_every_service(production_env):
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'db': s.DATABASES['default']['ENGINE'], 'db_host': s.DATABASES['default']['HOST'],"
        "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'cache': s.CACHES['default']['BACKEND'],"
        "'media': s.STORAGES['default']['BACKEND'], 'static': s.STORAGES['staticfiles']['BACKEND'],"
        "'acl': s.AWS_DEFAULT_ACL, 'signed': s.AWS_QUERYSTRING_AUTH, 'overwrite': s.AWS_S3_FILE_OVERWRITE,"
        "'region': s.AWS_S3_REGION_NAME, 'debug': s.DEBUG,"
        "'pool': s.DATABASES['default']['OPTIONS'].get('pool'), 'sessions': s.SESSION_ENGINE}))"
    )
    result = manage(production_env, "shell", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "db": "django.db.backends.postgresql",
        "db_host": "db.internal",
        "layer": "channels_redis.core.RedisChannelLayer",
        "cache": "crowdswap.cache.SharedRedisCache",
        "media": "storages.backends.s3.S3Storage",
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "acl": None,
        "signed": True,
        "overwrite": False,
        "region": "eu-west-1",
        "debug": False,
        "pool": {"min_size": 2, "max_size": 10, "timeout": 20},
        "sessions": "django.contrib.sessions.backends.cached_db",
    }


def test_db_pool_can_be_turned_off_for_an_external_pooler(production_env):
    """Behind PgBouncer (or with DB_POOL=0) Django opens its own connections, kept DB_CONN_MAX_AGE seconds."""
    production_env.update(DB_POOL="0", DB_CONN_MAX_AGE="60")
    script = (
        "import json; from django.conf import settings as s; d = s.DATABASES['default'];"
        "print(json.dumps([d['OPTIONS'].get('pool'), d['CONN_MAX_AGE']]))"
    )
    result = manage(production_env, "shell", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [None, 60]


def test_debug_off_refuses_the_development_secret_key(production_env):
    del production_env["SECRET_KEY"]
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
