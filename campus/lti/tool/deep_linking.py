"""Deep Linking 2.0, tool side: the picker of campus paths and modules a teacher links from the
LMS, and the signed answer that carries their choice back."""

from __future__ import annotations

from dataclasses import dataclass

from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.message_launch import MessageLaunch

from campus.lti.constants import Claim
from campus.lti.constants import TargetKind
from campus.lti.constants import target_key
from campus.lti.tool.passback import SCORE_MAXIMUM
from campus.paths import services as path_services
from campus.routing import external_url


@dataclass(frozen=True)
class PickerItem:
    target: str
    title: str
    kind: str
    path_title: str


def picker_items(search: str, language: str) -> list[PickerItem]:
    from campus.i18n import pick

    search = search.strip().lower()
    items = []
    for theme in path_services.list_themes():
        for path in path_services.active_paths(theme):
            path_title = pick(path.title, language)
            entries = [PickerItem(target_key(path.slug), path_title, TargetKind.PATH, path_title)]
            entries += [
                PickerItem(
                    target_key(path.slug, m.slug), pick(m.title, language), m.kind, path_title
                )
                for m in path.active_modules
            ]
            items += [
                e
                for e in entries
                if not search or search in e.title.lower() or search in e.path_title.lower()
            ]
    return items


def find_item(target: str, language: str) -> PickerItem | None:
    return next((i for i in picker_items("", language) if i.target == target), None)


def line_item(item: PickerItem) -> LineItem:
    """The gradebook column an item offers the LMS: every module and path sends a completion
    result (`passback`), so every item is gradable."""
    return (
        LineItem()
        .set_score_maximum(SCORE_MAXIMUM)
        .set_label(item.title)
        .set_resource_id(item.target)
    )


def response(message: MessageLaunch, item: PickerItem) -> tuple[str, str]:
    """Where the LMS wants the answer, and the signed answer (a JWT) naming `item`."""
    resource = (
        DeepLinkResource()
        .set_url(external_url("lti_tool.launch"))
        .set_title(item.title)
        .set_custom_params({"campus_target": item.target})
        .set_lineitem(line_item(item))
    )
    deep_link = message.get_deep_link()
    claims = deep_link.get_message_jwt([resource])
    if claims.get(Claim.DL_DATA) is None:
        # The data claim echoes the request's `data`; without one it is left out, not null.
        claims.pop(Claim.DL_DATA, None)
    jwt_value = deep_link.encode_jwt(claims)
    return_url = message.get_launch_data()[Claim.DL_SETTINGS]["deep_link_return_url"]
    return return_url, jwt_value
