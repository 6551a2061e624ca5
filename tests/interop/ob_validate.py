"""Run the official 1EdTech Open Badges 2.0 validator (PyPI `openbadges` 1.1.2) offline.

Runs inside its own virtual environment (see the Makefile's `validator` target), not the
campus's. Reads a JSON request on stdin:
  {"input": {"kind": "url"|"jws"|"file", "value": "..."},
   "documents": {"<url>": {"content_type": "...", "body_b64": "..."}},
   "recipient_email": "..." (optional)}
and prints the validator's report as JSON. Every fetch the validator makes is answered from a
pre-filled requests-cache backend (no network), including the bundled OB 2.0 JSON-LD context.
"""

import base64
import json
import sys

import openbadges
import requests
from openbadges.verifier.openbadges_context import OPENBADGES_CONTEXT_V2_DICT
from openbadges.verifier.openbadges_context import OPENBADGES_CONTEXT_V2_URI
from requests_cache.backends.base import BaseCache


def prefilled_cache(documents):
    cache = BaseCache()
    documents = dict(documents)
    documents[OPENBADGES_CONTEXT_V2_URI] = {
        "content_type": "application/ld+json",
        "body_b64": base64.b64encode(json.dumps(OPENBADGES_CONTEXT_V2_DICT).encode()).decode(),
    }
    for url, document in documents.items():
        request = requests.Request("GET", url).prepare()
        response = requests.Response()
        response.status_code = document.get("status", 200)
        response.url = url
        response._content = base64.b64decode(document["body_b64"])
        response.request = request
        response.raw = None
        response.headers["Content-Type"] = document["content_type"]
        cache.save_response(cache.create_key(request), response)
    return cache


def main():
    request = json.load(sys.stdin)
    kind, value = request["input"]["kind"], request["input"]["value"]
    badge_input = open(value, "rb") if kind == "file" else value
    profile = {"email": request["recipient_email"]} if request.get("recipient_email") else None
    result = openbadges.verify(
        badge_input,
        profile,
        cache_backend=prefilled_cache(request["documents"]),
        cache_expire_after=None,
    )
    report = result["report"]
    json.dump(
        {
            "valid": report["valid"],
            "errorCount": report["errorCount"],
            "warningCount": report["warningCount"],
            "messages": [
                {"level": m.get("messageLevel"), "name": m.get("name"), "result": m.get("result")}
                for m in report.get("messages", [])
            ],
            "validationSubject": report.get("validationSubject"),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
