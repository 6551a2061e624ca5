"""Deep Linking 2.0, tool side: the picker of campus paths and modules a teacher links from the
LMS, and the signed answer that carries their choice back."""

from __future__ import annotations

from dataclasses import dataclass

from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.message_launch import MessageLaunch

from campus.lti.constants import Claim
from campus.lti.constants import TargetKind
from campus.lti.constants import target_key
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


def response(message: MessageLaunch, item: PickerItem) -> tuple[str, str]:
    """Where the LMS wants the answer, and the signed answer (a JWT) naming `item`."""
    resource = (
        DeepLinkResource()
        .set_url(external_url("lti_tool.launch"))
        .set_title(item.title)
        .set_custom_params({"campus_target": item.target})
    )
    jwt_value = message.get_deep_link().get_response_jwt([resource])
    return_url = message.get_launch_data()[Claim.DL_SETTINGS]["deep_link_return_url"]
    return return_url, jwt_value
