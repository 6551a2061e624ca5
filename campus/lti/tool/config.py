"""pylti1p3's configuration and storage, from our database: registrations come from LtiPlatform
rows, the tool key is the campus LTI key, nonces and launch data live in LtiStoreEntry."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from pylti1p3.deployment import Deployment
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.lti.keys import PlatformContext
from campus.lti.keys import active_key
from campus.lti.keys import private_key
from campus.lti.models import LtiPlatform
from campus.lti.models import LtiStoreEntry

STORE_SECONDS = 7200  # launch data pylti1p3 keeps without saying how long


class DatabaseToolConf(ToolConfAbstract):
    """Registrations come from LtiPlatform rows; the tool key is the campus LTI key."""

    def __init__(self, context: PlatformContext, now: datetime) -> None:
        super().__init__()
        key = active_key(context, now)
        self._private_pem = (
            private_key(context, key)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
        self._public_pem = key.public_pem

    def _platforms(self, iss: str, client_id: str | None = None) -> list[LtiPlatform]:
        query = db.select(LtiPlatform).where(
            LtiPlatform.issuer == iss, LtiPlatform.is_enabled.is_(True)
        )
        if client_id:
            query = query.where(LtiPlatform.client_id == client_id)
        return list(db.session.execute(query.order_by(LtiPlatform.id)).scalars())

    def knows(self, iss: str, client_id: str | None = None) -> bool:
        """Whether an enabled registration exists for `iss` (and `client_id`, when given)."""
        return bool(self._platforms(iss, client_id))

    def _registration(self, platform: LtiPlatform | None) -> Registration | None:
        if platform is None:
            return None
        registration = (
            Registration()
            .set_issuer(platform.issuer)
            .set_client_id(platform.client_id)
            .set_auth_login_url(platform.auth_login_url)
            .set_auth_token_url(platform.auth_token_url)
            .set_tool_private_key(self._private_pem)
            .set_tool_public_key(self._public_pem)
        )
        if platform.jwks:
            registration.set_key_set(platform.jwks)
        else:
            registration.set_key_set_url(platform.jwks_url)
        return registration

    def check_iss_has_one_client(self, iss: str) -> bool:
        return len(self._platforms(iss)) == 1

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return len(self._platforms(iss)) > 1

    def find_registration_by_issuer(
        self, iss: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platforms = self._platforms(iss)
        return self._registration(platforms[0] if platforms else None)

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platforms = self._platforms(iss, client_id)
        return self._registration(platforms[0] if platforms else None)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        for platform in self._platforms(iss):
            if deployment_id in platform.deployment_ids:
                return Deployment().set_deployment_id(deployment_id)
        return None

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        for platform in self._platforms(iss, client_id):
            if deployment_id in platform.deployment_ids:
                return Deployment().set_deployment_id(deployment_id)
        return None


class DatabaseCache:
    """The get/set interface pylti1p3's cache storage expects, kept in LtiStoreEntry."""

    def get(self, key: str) -> Any:
        entry = db.session.get(LtiStoreEntry, key[:300])
        if entry is None or aware(entry.expires_at) < utcnow():
            return None
        return entry.value

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        entry = db.session.get(LtiStoreEntry, key[:300]) or LtiStoreEntry(key=key[:300])
        entry.value = value
        entry.expires_at = utcnow() + timedelta(seconds=exp or STORE_SECONDS)
        db.session.add(entry)
        db.session.flush()


class DatabaseLaunchStorage(CacheDataStorage):
    """Nonces and launch data live on the server: the cookie session cannot cross the LMS iframe.

    `cookieless`: a launch through the LMS's platform storage (`campus.lti.tool.storage`); keys
    then carry no per-browser session id, which pylti1p3 would keep in a cookie on HTTPS."""

    def __init__(self, cookieless: bool = False) -> None:
        super().__init__()
        self._cache = DatabaseCache()
        self._cookieless = cookieless

    def get_session_cookie_name(self) -> str | None:
        if self._cookieless:
            return None
        return super().get_session_cookie_name()
