"""Accounts (teams): credentials, tokens, plans, bans, top-ups."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from reelsmith.errors import ApiError, Code
from reelsmith.settings import Settings
from reelsmith.store.db import Database, rows_changed
from reelsmith.store.models import Account

PLANS = ("free", "pro")
MAX_CREDITS = 10**12  # far beyond any real balance, far below the database's 64-bit limit
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Credentials:
    """What the operator hands to a team, once. ``api_key`` is also Akool's ``clientSecret``."""

    client_id: str
    api_key: str


@dataclass(frozen=True)
class Caller:
    """The authenticated team behind a request."""

    account_id: int
    team_id: str
    plan: str


def _random_string(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_key(api_key: str) -> str:
    # A plain SHA-256 suffices: keys are 32 random characters (190 bits), so there is nothing
    # for a slow password hash to protect against, and authentication stays fast.
    return hashlib.sha256(api_key.encode()).hexdigest()


def describe_account(account: Account) -> dict[str, Any]:
    """An account as operators see it (never its key)."""
    return {
        "uid": account.id,
        "team_id": account.team_id,
        "name": account.name,
        "clientId": account.client_id,
        "plan": account.plan,
        "credit": account.credit,
        "banned": account.banned,
        "create_time": account.create_time,
    }


class KeyVault:
    """Encrypts API keys at rest with the server secret (needed for webhook encryption)."""

    def __init__(self, secret: bytes) -> None:
        digest = hashlib.sha256(b"api-keys:" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, api_key: str) -> str:
        return self._fernet.encrypt(api_key.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("stored API key cannot be decrypted: was the secret key changed?") from exc


class AccountService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.vault = KeyVault(settings.secret)
        self._token_secret = hashlib.sha256(b"tokens:" + settings.secret).hexdigest()
        # Successful authentications are remembered briefly: a poll then costs no database
        # read. Bans, plan changes and key rotations made in another process take effect
        # within ``auth_cache_seconds``; in this process at once (the cache is cleared).
        self._recent: dict[str, tuple[float, Caller]] = {}

    # --- administration -------------------------------------------------------------------

    def create(self, name: str = "", plan: str = "free", credits: int = 0) -> tuple[Account, Credentials]:
        """A new team with fresh credentials; the key is returned here and never again."""
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        if not 0 <= credits <= MAX_CREDITS:
            raise ValueError(f"credits must be between 0 and {MAX_CREDITS}")
        creds = Credentials(client_id=_random_string(16), api_key=_random_string(32))
        account = Account(
            name=name,
            client_id=creds.client_id,
            key_hash=hash_key(creds.api_key),
            key_encrypted=self.vault.seal(creds.api_key),
            plan=plan,
            credit=credits,
        )
        with self.db.write() as session:
            session.add(account)
        return account, creds

    def list(self) -> list[Account]:
        with self.db.read() as session:
            return list(session.scalars(select(Account).order_by(Account.id)))

    def find(self, ref: str) -> Account:
        """An account by clientId, team_id or numeric id."""
        with self.db.read() as session:
            query = select(Account).where(
                (Account.client_id == ref)
                | (Account.team_id == ref)
                | (Account.id == (int(ref) if ref.isdigit() else -1))
            )
            account = session.scalars(query).first()
        if account is None:
            raise LookupError(f"no account {ref!r}")
        return account

    def set_banned(self, ref: str, banned: bool) -> Account:
        account = self.find(ref)
        with self.db.write() as session:
            session.execute(update(Account).where(Account.id == account.id).values(banned=banned))
        self._recent.clear()
        return self.find(ref)

    def set_plan(self, ref: str, plan: str) -> Account:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        account = self.find(ref)
        with self.db.write() as session:
            session.execute(update(Account).where(Account.id == account.id).values(plan=plan))
        self._recent.clear()
        return self.find(ref)

    def top_up(self, ref: str, credits: int) -> Account:
        """Add (or, with a negative number, remove) credits; the balance stays between 0 and
        MAX_CREDITS."""
        if abs(credits) > MAX_CREDITS:
            raise ValueError(f"credits must be between -{MAX_CREDITS} and {MAX_CREDITS}")
        account = self.find(ref)
        with self.db.write() as session:
            done = session.execute(
                update(Account)
                .where(Account.id == account.id, Account.credit + credits >= 0, Account.credit + credits <= MAX_CREDITS)
                .values(credit=Account.credit + credits)
            )
            if rows_changed(done) != 1:
                change = f"remove {-credits}" if credits < 0 else f"add {credits}"
                raise ValueError(f"balance is {account.credit}; cannot {change}")
        return self.find(ref)

    def rotate_key(self, ref: str) -> Credentials:
        """A new key for the same clientId; the old key and every token issued stop working."""
        account = self.find(ref)
        api_key = _random_string(32)
        with self.db.write() as session:
            session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(
                    key_hash=hash_key(api_key),
                    key_encrypted=self.vault.seal(api_key),
                    key_version=Account.key_version + 1,
                )
            )
        self._recent.clear()
        return Credentials(client_id=account.client_id, api_key=api_key)

    def api_key_of(self, account: Account) -> str:
        return self.vault.open(account.key_encrypted)

    # --- authentication -------------------------------------------------------------------

    def issue_token(self, client_id: object, client_secret: object) -> str:
        """getToken: a JWT for a valid clientId + clientSecret pair."""
        if not client_id or not client_secret:
            raise ApiError(Code.NO_AUTH, "clientId and clientSecret are required")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise ApiError(Code.BAD_AUTH, "clientId and clientSecret must be strings")
        with self.db.read() as session:
            account = session.scalars(select(Account).where(Account.client_id == client_id)).first()
        if account is None or not secrets.compare_digest(account.key_hash, hash_key(client_secret)):
            raise ApiError(Code.BAD_AUTH, "invalid clientId or clientSecret")
        if account.banned:
            raise ApiError(Code.BANNED, "the account has been banned")
        now = int(time.time())
        claims = {
            "sub": str(account.id),
            "kv": account.key_version,
            "iat": now,
            "exp": now + self.settings.token_lifetime_days * 86400,
        }
        return jwt.encode(claims, self._token_secret, algorithm="HS256")

    def authenticate(self, api_key: str | None, authorization: str | None) -> Caller:
        """The caller of a request. ``Authorization`` wins over ``x-api-key`` (API.md section 1)."""
        if authorization:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise ApiError(Code.BAD_AUTH, "Authorization must be 'Bearer <token>'")
            cache_key = "t:" + token
        elif api_key:
            cache_key = "k:" + hash_key(api_key)
        else:
            raise ApiError(Code.NO_AUTH, "authorization cannot be empty: send x-api-key or Authorization")
        remembered = self._recent.get(cache_key)
        if remembered is not None and remembered[0] > time.monotonic():
            return remembered[1]
        account = self._account_from_token(token) if authorization else self._account_from_key(cache_key[2:])
        if account.banned:
            raise ApiError(Code.BANNED, "the account has been banned")
        caller = Caller(account_id=account.id, team_id=account.team_id, plan=account.plan)
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[cache_key] = (time.monotonic() + self.settings.auth_cache_seconds, caller)
        return caller

    def _account_from_key(self, key_hash: str) -> Account:
        row = self.db.read_first(select(Account.__table__).where(Account.key_hash == key_hash))
        if row is None:
            raise ApiError(Code.BAD_AUTH, "invalid API key")
        return Account(**row._mapping)

    def _account_from_token(self, token: str) -> Account:
        try:
            claims = jwt.decode(token, self._token_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise ApiError(Code.BAD_AUTH, "the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise ApiError(Code.BAD_AUTH, "invalid token") from exc
        # We sign tokens with an account id; anything else (a token signed elsewhere with a leaked
        # or default secret, say) is simply not ours.
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.isdigit() or int(subject) >= 2**63:
            raise ApiError(Code.BAD_AUTH, "invalid token")
        row = self.db.read_first(select(Account.__table__).where(Account.id == int(subject)))
        if row is None or row.key_version != claims.get("kv"):
            raise ApiError(Code.BAD_AUTH, "invalid token: the key was rotated or the account removed")
        return Account(**row._mapping)

    def balance(self, account_id: int) -> int:
        row = self.db.read_first(select(Account.credit).where(Account.id == account_id))
        return int(row.credit) if row else 0
