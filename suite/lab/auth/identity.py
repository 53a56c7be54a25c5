"""Who is calling: the admin token and ServiceAccount tokens from the TokenRequest API.

Real clusters issue ServiceAccount tokens as signed JWTs bound to the account's uid:
deleting the account (or the token's expiry passing) makes the token fail with 401. The
lab signs its tokens with a per-lab HMAC key (HS256) instead of the apiserver's RSA key;
clients treat a token as an opaque string, so only the lab ever reads the claims.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import unauthorized

ADMIN_USER = "system:admin"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ISSUER = "https://kubernetes.default.svc"
SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class UserInfo:
    """The authenticated subject of one request (user.Info in the apiserver)."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.name, self.groups

    @property
    def is_master(self) -> bool:
        return MASTERS in self.groups


def service_account_user(namespace: str, name: str, uid: str = "") -> UserInfo:
    """The user a ServiceAccount token authenticates as (serviceaccount.UserInfo)."""
    return UserInfo(f"{SA_PREFIX}{namespace}:{name}",
                    ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                     AUTHENTICATED), uid)


ADMIN = UserInfo(ADMIN_USER, (MASTERS, AUTHENTICATED))
ANONYMOUS = UserInfo("system:anonymous", (UNAUTHENTICATED,))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Issues and verifies bearer tokens; the store is asked whether the account lives."""

    def __init__(self, admin_token: str, account_uid: Any) -> None:
        self.admin_token = admin_token
        self._key = secrets.token_bytes(32)
        # (namespace, name) -> uid of the live ServiceAccount, or None.
        self._account_uid = account_uid
        # Verified tokens -> (namespace, name, uid, exp): a signature is checked once.
        self._verified: dict[str, tuple[str, str, str, int]] = {}

    def issue(self, namespace: str, name: str, uid: str, expiration_s: int,
              audiences: list[str] | None = None) -> tuple[str, int]:
        """A signed token for the account and its expiry (unix seconds)."""
        now = int(time.time())
        exp = now + expiration_s
        claims = {"aud": audiences or [ISSUER], "exp": exp, "iat": now, "nbf": now,
                  "iss": ISSUER, "sub": f"{SA_PREFIX}{namespace}:{name}",
                  "kubernetes.io": {"namespace": namespace,
                                    "serviceaccount": {"name": name, "uid": uid}}}
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{head}.{body}.{self._sign(head, body)}", exp

    def _sign(self, head: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest())

    def authenticate(self, header: str) -> UserInfo:
        """The user of an `Authorization` header value; 401 for anything else."""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized()
        if hmac.compare_digest(token, self.admin_token):
            return ADMIN
        return self._service_account(token)

    def _service_account(self, token: str) -> UserInfo:
        found = self._verified.get(token)
        if found is None:
            found = self._verify(token)
            if len(self._verified) > 1024:
                self._verified.clear()
            self._verified[token] = found
        namespace, name, uid, exp = found
        if exp <= time.time() or self._account_uid(namespace, name) != uid:
            raise unauthorized()
        return service_account_user(namespace, name, uid)

    def _verify(self, token: str) -> tuple[str, str, str, int]:
        """The claims of a token this lab signed; 401 for anything else."""
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self._sign(*parts[:2])):
            raise unauthorized()
        try:
            claims = json.loads(_unb64(parts[1]))
            ref = claims["kubernetes.io"]
            namespace, name = ref["namespace"], ref["serviceaccount"]["name"]
            uid, exp = ref["serviceaccount"]["uid"], int(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise unauthorized() from None
        return namespace, name, uid, exp
