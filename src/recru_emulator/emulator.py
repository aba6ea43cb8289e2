"""The emulator's whole state: the tenant, and around it the rate limiter, faults, counters and settings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from recru_emulator.faults import FaultPlan
from recru_emulator.generator import generate
from recru_emulator.ratelimit import DEFAULT_PER_MINUTE, RateLimiter
from recru_emulator.state import Tenant

API_USER_ID = 1


@dataclass
class Counters:
    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, dict[str, int]]:
        return {"calls": dict(self.calls), "errors": dict(self.errors), "faults": dict(self.faults)}


class Emulator:
    def __init__(self, seed: int, size: int, rate_limit: int | None = DEFAULT_PER_MINUTE) -> None:
        self.seed = seed
        self.size = size
        data = generate(seed, size)
        self.login = data.api_login
        self.password = data.api_password
        self.tenant = Tenant(data)
        self.limiter = RateLimiter(rate_limit)
        self.faults = FaultPlan(seed)
        self.counters = Counters()

    def reset(self, seed: int, size: int) -> None:
        """A fresh tenant that keeps the API user's login and password, and the rate-limit setting."""
        data = generate(seed, size)
        current = self.tenant.users.get(API_USER_ID)
        if current is not None:
            self.login = current["email"]
            self.password = self.tenant.passwords.get(API_USER_ID) or self.password
        api_user = data.users[0]
        api_user["email"] = self.login
        api_user["password"] = self.password
        self.tenant = Tenant(data)
        self.limiter.reset()
        self.faults = FaultPlan(seed)
        self.counters = Counters()
