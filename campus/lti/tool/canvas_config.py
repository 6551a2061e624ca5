"""The campus as a Canvas developer key: the JSON configuration a Canvas admin loads with
"Enter URL" (Canvas's "Anatomy of a JSON configuration", doc/api/lti_dev_key_config.md).

Only what the campus honours: the deep-linking picker, from a module ("link_selection") and
from an assignment ("assignment_selection"); the links it returns are resource links to the
launch URL that name a path or module. A bare launch (no chosen target) has nothing to open,
so no navigation placement is offered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from campus.lti.constants import MessageType
from campus.lti.tool.registration import SCOPES
from campus.lti.tool.registration import ToolEndpoints

CANVAS_PLATFORM = "canvas.instructure.com"
TOOL_ID = "campus"
PLACEMENTS = ("link_selection", "assignment_selection")
SELECTION_SIZE = {"selection_width": 800, "selection_height": 600}


def canvas_configuration(endpoints: ToolEndpoints, title: str, description: str) -> dict[str, Any]:
    """The developer-key JSON for `endpoints` (absolute addresses on BASE_URL)."""
    placements = [
        {
            "placement": placement,
            "message_type": MessageType.DEEP_LINKING.value,
            "target_link_uri": endpoints.deep_link,
            "text": title,
            **SELECTION_SIZE,
        }
        for placement in PLACEMENTS
    ]
    return {
        "title": title,
        "description": description,
        "oidc_initiation_url": endpoints.login,
        "target_link_uri": endpoints.launch,
        "public_jwk_url": endpoints.jwks,
        "scopes": [scope.value for scope in SCOPES],
        "extensions": [
            {
                "platform": CANVAS_PLATFORM,
                "privacy_level": "public",
                "domain": urlsplit(endpoints.launch).netloc,
                "tool_id": TOOL_ID,
                "settings": {"text": title, **SELECTION_SIZE, "placements": placements},
            }
        ],
    }
