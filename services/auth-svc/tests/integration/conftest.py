"""An in-process auth-svc (lifespan and all) on the session's real PostgreSQL database."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from auth_svc.main import create_app
from auth_svc.passwords import Passwords
from auth_svc.settings import Settings
from fastapi import FastAPI

# Real argon2id, lighter parameters: these tests are about the database and the HTTP contract.
FAST_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def make_settings(database_url: str, key_file: Path, **overrides: object) -> Settings:
    # Every test registers from the ASGI transport's one address: the per-address allowance is raised here
    # (test_auth_hardening.py checks the real default's behaviour with an app of its own).
    # No heartbeat: these apps have no RabbitMQ of their own (the heartbeat is servicekit's, tested there).
    overrides = {"register_max_per_address": 100_000, "heartbeat_seconds": 0, **overrides}
    return Settings(database_url=database_url, signing_key_file=key_file, **overrides)


def make_app(settings: Settings) -> FastAPI:
    return create_app(settings, passwords=Passwords(FAST_PASSWORDS))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://auth") as client:
        yield client


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-keys") / "auth-signing-key.pem"


@pytest.fixture(scope="session")
def settings(database_url: str, key_file: Path) -> Settings:
    return make_settings(database_url, key_file)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = make_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://auth") as client:
        yield client


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (what `request.client.host` says)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app, client=(address, 40000)), base_url="http://auth")


def random_address() -> str:
    """A loopback address of its own, so per-address counters of other tests do not matter."""
    n = uuid.uuid4().int
    return f"127.{n % 250 + 1}.{(n >> 8) % 250 + 1}.{(n >> 16) % 250 + 1}"


@pytest.fixture
def username() -> str:
    return f"u_{uuid.uuid4().hex[:12]}"


async def register(client: httpx.AsyncClient, username: str, password: str = "Passw0rd!") -> dict:
    response = await client.post("/api/v4/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return response.json()
