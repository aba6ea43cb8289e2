"""The emulator's whole state: the tenant, and around it the rate limiter, faults, counters and settings.

The tenant lives in memory; with a ``state_file`` it is loaded from that file when one exists (instead of being
generated) and saved back when the server stops, so a tenant with its changes survives a restart.
"""

from __future__ import annotations

import pickle
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from recru_emulator.faults import FaultPlan
from recru_emulator.generator import api_credentials, generate
from recru_emulator.ratelimit import DEFAULT_PER_MINUTE, RateLimiter
from recru_emulator.state import Tenant

API_USER_ID = 1
MAX_SIZE = 250_000
"""The most jobseekers a tenant is generated with (the benchmarks use 100,000): a tenant is made in one go, the
server answering nothing meanwhile, and this one takes some 20 s and 1.5 GB."""


class LoginTaken(ValueError):
    """A reset would give a generated user the API user's login (logins are unique)."""


@dataclass
class Counters:
    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, dict[str, int]]:
        return {"calls": dict(self.calls), "errors": dict(self.errors), "faults": dict(self.faults)}


class Emulator:
    def __init__(
        self, seed: int, size: int, rate_limit: int | None = DEFAULT_PER_MINUTE, state_file: Path | None = None
    ) -> None:
        self.seed = seed
        self.size = size
        self.state_file = state_file
        if state_file is not None and state_file.exists():
            with state_file.open("rb") as stored:
                self.tenant: Tenant = pickle.load(stored)
        else:
            self.tenant = Tenant(generate(seed, size))
            self.tenant.origin = (seed, size)
        # a tenant saved without its API user by an emulator that kept no credentials: its seed's
        self.login, self.password = self.tenant.api_credentials or api_credentials((self.tenant.origin or (seed,))[0])
        self.keep_api_credentials()
        self.limiter = RateLimiter(rate_limit)
        self.faults = FaultPlan(seed)
        self.counters = Counters()

    def save(self) -> None:
        """Write the tenant to the state file (if there is one), atomically; a file that cannot be written (its
        directory removed meanwhile, say) is reported on stderr, the earlier file left as it was."""
        if self.state_file is None:
            return
        partial = self.state_file.with_suffix(".partial")
        try:
            with partial.open("wb") as out:
                pickle.dump(self.tenant, out, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(self.state_file)
        except OSError as error:
            print(f"error: the tenant could not be saved to {self.state_file}: {error}", file=sys.stderr, flush=True)

    def api_user_can_log_in(self) -> bool:
        """Whether the API user is there, active, with API access (a reset makes it so again)."""
        user = self.tenant.users.get(API_USER_ID)
        return user is not None and bool(user["active"]) and bool(user["apiAccess"])

    def keep_api_credentials(self) -> None:
        """Take the API user's login and password as the tenant holds them now, and keep them in the tenant (so
        in its state file): a reset restores them, also after the API user was deleted (this is called before)."""
        current = self.tenant.users.get(API_USER_ID)
        if current is not None:
            self.login = current["email"]
            self.password = self.tenant.passwords.get(API_USER_ID) or self.password
            self.tenant.api_credentials = (self.login, self.password)

    def reset(self, seed: int | None = None, size: int | None = None) -> None:
        """A fresh tenant that keeps the API user's login and password, and the rate-limit setting. ``seed`` and
        ``size`` default to those the current tenant was generated from (a tenant loaded from a state file keeps
        its own; one saved by an older emulator, the command line's). ``LoginTaken`` (nothing changed) if a
        generated user's e-mail is the API user's login."""
        origin = self.tenant.origin or (self.seed, self.size)
        seed, size = origin[0] if seed is None else seed, origin[1] if size is None else size
        data = generate(seed, size)
        self.keep_api_credentials()
        if any(user["email"].lower() == self.login.strip().lower() for user in data.users[1:]):
            raise LoginTaken(
                f"the API user's login {self.login} is the e-mail of a user of the tenant of seed {seed}: "
                "change the API user's e-mail first"
            )
        api_user = data.users[0]
        api_user["email"] = self.login
        api_user["password"] = self.password
        self.tenant = Tenant(data)
        self.tenant.origin = (seed, size)
        self.limiter.reset()
        self.faults = FaultPlan(seed)
        self.counters = Counters()
