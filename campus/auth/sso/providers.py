"""Provider settings as admins and `flask sso providers` give them, checked in one place; the
SSO-only switch of an organisation; what the login page offers."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.auth.sso.client import address_problem
from campus.auth.sso.errors import SsoError
from campus.auth.sso.models import OidcIdentity
from campus.auth.sso.models import OidcProvider
from campus.auth.sso.services import MAPPABLE_ROLES
from campus.extensions import db

# Paths under /auth/sso that are not providers.
RESERVED_SLUGS = frozenset({"link", "logout", "logged-out"})


def _invalid(message: str) -> SsoError:
    return SsoError(400, message)


@dataclass(frozen=True)
class ProviderFields:
    name: str
    slug: str
    issuer: str
    client_id: str
    client_secret: str | None  # None or empty on edit: keep the stored one
    organisation_id: int
    discovery_url: str | None = None
    scopes: str = "openid email profile"
    name_claim: str = "name"
    email_claim: str = "email"
    organisation_claim: str | None = None
    organisation_map: str = ""
    roles_claim: str | None = None
    role_map: str = ""
    allowed_domains: str = ""
    trust_email_verified: bool = False


def parse_pairs(text: str) -> dict[str, str]:
    """ "value = target" lines (blank lines and # comments skipped) as a dict."""
    pairs: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        value, sep, target = line.rpartition("=")
        if not sep or not value.strip() or not target.strip():
            raise _invalid(_("Line %(number)d is not “value = target”.", number=number))
        pairs[value.strip()] = target.strip()
    return pairs


def format_pairs(pairs: dict[str, str]) -> str:
    return "\n".join(f"{value} = {target}" for value, target in pairs.items())


def parse_domains(text: str) -> list[str]:
    domains = []
    for word in text.replace(",", " ").split():
        domain = word.strip().lower().lstrip("@")
        if not domain or "." not in domain or "/" in domain or "@" in domain:
            raise _invalid(_("%(domain)s is not an e-mail domain.", domain=word))
        domains.append(domain)
    return sorted(set(domains))


def _checked(fields: ProviderFields, allow_http: bool) -> dict[str, object]:
    slug = fields.slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise _invalid(_("This short name is reserved. Choose another."))
    issuer = fields.issuer.strip()
    for url in (issuer, (fields.discovery_url or "").strip()):
        if url and (problem := address_problem(url, allow_http)):
            raise _invalid(f"{url}: {problem}")
    if urlsplit(issuer).path.endswith("/.well-known/openid-configuration"):
        raise _invalid(_("Give the issuer, not its discovery document address."))
    scopes = " ".join(fields.scopes.split())
    if "openid" not in scopes.split():
        raise _invalid(_("The scopes must include openid."))
    organisation = db.session.get(Organisation, fields.organisation_id)
    if organisation is None:
        raise _invalid(_("Choose the organisation of new users."))
    organisation_map = parse_pairs(fields.organisation_map)
    known = set(db.session.execute(db.select(Organisation.slug)).scalars())
    for slug_named in organisation_map.values():
        if slug_named not in known:
            raise _invalid(_("There is no organisation %(slug)s.", slug=slug_named))
    role_map = parse_pairs(fields.role_map)
    allowed_roles = {role.value for role in MAPPABLE_ROLES}
    for role in role_map.values():
        if role not in allowed_roles:
            raise _invalid(
                _(
                    "%(role)s is not a role a provider may give (one of: %(roles)s).",
                    role=role,
                    roles=", ".join(sorted(allowed_roles)),
                )
            )
    return {
        "name": fields.name.strip(),
        "slug": slug,
        "issuer": issuer,
        "discovery_url": (fields.discovery_url or "").strip() or None,
        "client_id": fields.client_id.strip(),
        "scopes": scopes,
        "organisation_id": organisation.id,
        "name_claim": fields.name_claim.strip() or "name",
        "email_claim": fields.email_claim.strip() or "email",
        "organisation_claim": (fields.organisation_claim or "").strip() or None,
        "organisation_map": organisation_map,
        "roles_claim": (fields.roles_claim or "").strip() or None,
        "role_map": role_map,
        "allowed_domains": parse_domains(fields.allowed_domains),
        "trust_email_verified": bool(fields.trust_email_verified),
    }


def _slug_taken(slug: str, other_than: int | None) -> bool:
    found = db.session.execute(
        db.select(OidcProvider.id).where(OidcProvider.slug == slug)
    ).scalar_one_or_none()
    return found is not None and found != other_than


def create_provider(fields: ProviderFields, allow_http: bool) -> OidcProvider:
    values = _checked(fields, allow_http)
    if not fields.client_secret:
        raise _invalid(_("Give the client secret."))
    if _slug_taken(str(values["slug"]), None):
        raise _invalid(_("Another provider has this short name."))
    provider = OidcProvider(**values, client_secret=fields.client_secret.strip(), is_enabled=True)
    db.session.add(provider)
    db.session.flush()
    return provider


def update_provider(provider: OidcProvider, fields: ProviderFields, allow_http: bool) -> None:
    values = _checked(fields, allow_http)
    if _slug_taken(str(values["slug"]), provider.id):
        raise _invalid(_("Another provider has this short name."))
    for name, value in values.items():
        setattr(provider, name, value)
    if fields.client_secret:
        provider.client_secret = fields.client_secret.strip()
    db.session.flush()


def list_providers() -> list[OidcProvider]:
    return list(db.session.execute(db.select(OidcProvider).order_by(OidcProvider.name)).scalars())


def enabled_providers() -> list[OidcProvider]:
    return [provider for provider in list_providers() if provider.is_enabled]


def set_sso_only(organisation: Organisation, sso_only: bool, acting: User) -> None:
    """Members then log in only through a provider. Refused while no enabled provider serves
    the organisation, and for the admin's own organisation unless they have an identity."""
    if sso_only:
        serving = db.session.execute(
            db.select(db.func.count()).where(
                OidcProvider.organisation_id == organisation.id,
                OidcProvider.is_enabled.is_(True),
            )
        ).scalar_one()
        if not serving:
            raise _invalid(
                _(
                    "First add an enabled provider whose new users join %(name)s.",
                    name=organisation.name,
                )
            )
        own_identity = db.session.execute(
            db.select(db.func.count()).where(OidcIdentity.user_id == acting.id)
        ).scalar_one()
        if acting.organisation_id == organisation.id and not own_identity:
            raise _invalid(_("You would lock yourself out: log in once with the provider first."))
    organisation.sso_only = sso_only


def password_notice(email: str | None) -> str | None:
    """For the login page after a failed password: addresses in a domain of an SSO-only
    organisation's provider are told to use its button (by domain, so no account is revealed)."""
    if not email or "@" not in email:
        return None
    domain = normalise_email(email).rsplit("@", 1)[1]
    rows = db.session.execute(
        db.select(OidcProvider)
        .join(Organisation, Organisation.id == OidcProvider.organisation_id)
        .where(OidcProvider.is_enabled.is_(True), Organisation.sso_only.is_(True))
    ).scalars()
    for provider in rows:
        if domain in (provider.allowed_domains or []):
            return _(
                "Addresses at %(domain)s log in with %(name)s, not with a campus password.",
                domain=domain,
                name=provider.name,
            )
    return None
