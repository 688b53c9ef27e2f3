"""Principals: the configured accounts (found by access key, canonical id,
account id or e-mail) and the anonymous caller."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Account, Config


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an account (through one of its keys), or nobody
    (`account` None: an unsigned request, S3's anonymous principal)."""

    account: Account | None
    access_key: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.account is None

    @property
    def canonical_id(self) -> str | None:
        return self.account.canonical_id if self.account else None

    @property
    def account_id(self) -> str | None:
        return self.account.account_id if self.account else None

    @property
    def arn(self) -> str | None:
        """The principal's ARN as policies name it: the account root."""
        return f"arn:aws:iam::{self.account.account_id}:root" if self.account else None

    @property
    def userid(self) -> str:
        """aws:userid: the account id for a root caller, `anonymous` otherwise (IAM docs)."""
        return self.account.account_id if self.account else "anonymous"


ANONYMOUS = Principal(None)


class Directory:
    """Every configured account, indexed for the look-ups requests need."""

    def __init__(self, config: Config) -> None:
        self.accounts = config.all_accounts()
        self.default = self.accounts[0]
        self._by_key = {k.access_key: a for a in self.accounts for k in a.keys}
        self._by_canonical = {a.canonical_id: a for a in self.accounts}
        self._by_id = {a.account_id: a for a in self.accounts}
        self._by_email = {a.email.lower(): a for a in self.accounts if a.email}

    def principal(self, access_key: str | None) -> Principal:
        """The principal an access key stands for; an unknown or absent key is
        the default account's (with auth off any key is taken)."""
        if access_key is None:
            return Principal(self.default)
        return Principal(self._by_key.get(access_key, self.default), access_key)

    def by_canonical_id(self, canonical_id: str | None) -> Account:
        """The account with this canonical id; None (rows written before
        accounts existed) and unknown ids are the default account's."""
        return self._by_canonical.get(canonical_id or "", self.default)

    def knows_canonical_id(self, canonical_id: str) -> bool:
        return canonical_id in self._by_canonical

    def by_account_id(self, account_id: str) -> Account | None:
        return self._by_id.get(account_id)

    def by_email(self, email: str) -> Account | None:
        return self._by_email.get(email.lower())


def directory_for(config: Config) -> Directory:
    """The Directory of a Config, built once (configs do not change while serving)."""
    found = config.__dict__.get("_directory")
    if found is None:
        found = config.__dict__["_directory"] = Directory(config)
    return found
