"""Password checks and login throttling.

Password hashing (argon2, ~0.1 s of CPU on several threads) never runs on the event loop: it runs on a pool of
PASSWORD_WORKERS threads at a lower OS priority, so a login flood cannot freeze the chats, and at most
MAX_WAITING checks wait for it (beyond that, logins answer 503 `busy` at once instead of queueing without end).
Known and unknown emails cost the same: an unknown one is checked against a dummy hash of the same strength.

Throttling counts failed logins in three windows of WINDOW_SECONDS (docs/protocol.md, "Log in"):

- per account and client address: PAIR_FAILURES (a person's own typos throttle only them);
- per client address, whatever the accounts: ADDRESS_FAILURES (one address spraying many accounts);
- per account, from browsers that account has not signed in from: ACCOUNT_FAILURES (many addresses guessing one
  account's password).

The account-wide limit is the one an attacker could turn against a real agent, so it spares browsers the agent
has used: a successful login leaves a signed `chat_login_device` cookie naming the account, and a login that
presents it for that account is counted only per account and browser (PAIR_FAILURES), never by address or
account-wide. An attacker cannot mint that cookie, so a flood of guesses locks out only other unknown browsers,
and only until the window passes. Every attempt counts as a failure until its password is checked (so parallel
requests cannot slip past a limit); a success takes its counts back.
"""
from __future__ import annotations

import asyncio
import hmac
import os
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp import web

from .. import keys
from . import client_address
from ..auth import hash_password, verify_password
from ..errors import ChatError, RateLimited
from ..ratelimit import SlidingWindowLimiter
from ..store import agents as agent_queries
from .transport_security import is_https

PASSWORD_WORKERS = 2
MAX_WAITING = 32
WORKER_NICE = 19
WINDOW_SECONDS = 900.0
PAIR_FAILURES = 5
ADDRESS_FAILURES = 20
ACCOUNT_FAILURES = 10
DEVICE_COOKIE = "chat_login_device"
DEVICE_SECONDS = 180 * 24 * 3600
THROTTLED = "Too many failed attempts. Wait a few minutes and try again."


class WrongCredentials(ChatError):
    """Wrong email or password."""
    code = "invalid_credentials"
    http_status = 401


class LoginThrottled(RateLimited):
    """Too many failed logins; the answer says how long to wait (Retry-After)."""

    def __init__(self, retry_after: float):
        super().__init__(THROTTLED)
        self.retry_after = max(1, int(retry_after + 0.999))


class Busy(ChatError):
    """Too many password checks are waiting; try again in a few seconds."""
    code = "busy"
    http_status = 503


def _lower_priority() -> None:
    # Linux: a thread id names one thread, and the threads argon2 starts for its lanes inherit the value.
    if sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
        except OSError:
            pass


class PasswordHashing:
    """argon2 on a small pool of low-priority threads, with a bound on how many checks may wait."""

    def __init__(self, workers: int = PASSWORD_WORKERS, max_waiting: int = MAX_WAITING):
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="password-hash", initializer=_lower_priority)
        self._max_waiting = max_waiting
        self._waiting = 0

    async def _run(self, fn, *args, bounded: bool = True):
        if bounded and self._waiting >= self._max_waiting:
            raise Busy("the server is checking many passwords right now; try again in a few seconds")
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._waiting -= 1

    async def verify(self, password_hash: str | None, password: str, bounded: bool = True) -> bool:
        """Whether the password matches; None (no such account) costs as much as a real check and is False.
        `bounded=False` for signed-in agents' own requests: the bound is for anonymous floods, and they never
        answer `busy`."""
        return await self._run(verify_password, password_hash, password, bounded=bounded)

    async def hash(self, password: str, bounded: bool = True) -> str:
        return await self._run(hash_password, password, bounded=bounded)

    def warm_up(self) -> None:
        """Make the dummy hash now, in the pool, so the first unknown email costs no more than any other."""
        self._pool.submit(verify_password, None, "")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Attempt:
    at: float
    pair: str
    counted: list[tuple[SlidingWindowLimiter, str]] = field(default_factory=list)


class LoginGuard:
    def __init__(self, app: web.Application):
        self._secrets = app[keys.SECRETS]
        self.passwords = PasswordHashing()
        self.pairs = SlidingWindowLimiter(PAIR_FAILURES, WINDOW_SECONDS)
        self.addresses = SlidingWindowLimiter(ADDRESS_FAILURES, WINDOW_SECONDS)
        self.accounts = SlidingWindowLimiter(ACCOUNT_FAILURES, WINDOW_SECONDS)

    # -- trusted browsers ---------------------------------------------------------------------------------

    def device_cookie(self, email: str) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._secrets.sign('login-device', f'{email}:{nonce}')}"

    def device_of(self, request: web.Request, email: str) -> str | None:
        """The id of the browser in the request's device cookie, when that cookie was issued for this account."""
        value = request.cookies.get(DEVICE_COOKIE, "")
        nonce, _, signature = value.partition(".")
        if not nonce or len(value) > 200:
            return None
        expected = self._secrets.sign("login-device", f"{email}:{nonce}")
        return nonce if hmac.compare_digest(signature, expected) else None

    # -- the limits ----------------------------------------------------------------------------------------

    def begin(self, email: str, address: str, device: str | None, now: float) -> _Attempt:
        """Count an attempt provisionally, or raise LoginThrottled when any of its limits is reached."""
        if device is not None:
            checks = [(self.pairs, f"{email}|device:{device}")]
        else:
            where = client_address.limit_key(address)
            checks = [(self.pairs, f"{email}|{where}"), (self.addresses, where), (self.accounts, email)]
        wait = max(limiter.retry_after(key, now) for limiter, key in checks)
        if wait > 0:
            raise LoginThrottled(wait)
        for limiter, key in checks:
            limiter.allow(key, now)
        return _Attempt(now, checks[0][1], checks)

    def succeeded(self, attempt: _Attempt) -> None:
        self.pairs.reset(attempt.pair)
        self.not_a_guess(attempt)

    def not_a_guess(self, attempt: _Attempt) -> None:
        for limiter, key in attempt.counted:
            limiter.forget(key, attempt.at)

    # -- the whole check -----------------------------------------------------------------------------------

    async def check(self, request: web.Request, email: str, password: str, now: float) -> int:
        """The agent id the credentials belong to; raises LoginThrottled, Busy or WrongCredentials."""
        attempt = self.begin(email, client_address.of_request(request), self.device_of(request, email), now)
        found = await request.app[keys.STORE].read(agent_queries.password_hash_for, email)
        try:
            matches = await self.passwords.verify(found[1] if found else None, password)
        except Busy:
            self.not_a_guess(attempt)    # no password was checked
            raise
        # Same answer whether the account exists, is disabled or the password is wrong.
        if not matches or found is None or found[2]:
            raise WrongCredentials("Wrong email or password.")
        self.succeeded(attempt)
        return found[0]

    def remember_browser(self, request: web.Request, response: web.StreamResponse, email: str) -> None:
        response.set_cookie(DEVICE_COOKIE, self.device_cookie(email), httponly=True, samesite="Strict",
                            path="/login", secure=is_https(request), max_age=DEVICE_SECONDS)


LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)


async def _pool_ctx(app: web.Application):
    app[LOGIN_GUARD].passwords.warm_up()
    yield
    await asyncio.get_running_loop().run_in_executor(None, app[LOGIN_GUARD].passwords.close)


def setup(app: web.Application) -> None:
    app[LOGIN_GUARD] = LoginGuard(app)
    app.cleanup_ctx.append(_pool_ctx)


def throttled_answer(response: web.StreamResponse, exc: ChatError) -> web.StreamResponse:
    """Add Retry-After to a 429 or 503 login answer."""
    if isinstance(exc, LoginThrottled):
        response.headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, Busy):
        response.headers["Retry-After"] = "5"
    return response
