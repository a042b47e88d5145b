"""The fake Mastodon server's status reads: GET /api/v1/statuses?id[]= and /statuses/:id.

As Mastodon 4.3+ answers them: the batch read returns the statuses it can show, in the order
asked, leaving out deleted or unknown ids; the single read answers 404 ``{"error": "Record
not found"}`` for them. A server set without the batch endpoint (``batch_statuses=False``)
answers the batch read 404, as an older Mastodon does. Both count against the API limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amplifier.testing.fakeserver import Request, Response

if TYPE_CHECKING:
    from amplifier.testing.fake_mastodon import FakeMastodon

NOT_FOUND = {"error": "Record not found"}


class StatusReads:
    """The two read handlers over one fake server's statuses."""

    def __init__(self, server: FakeMastodon) -> None:
        self.fake = server

    def many(self, request: Request) -> Response:
        fake = self.fake
        if not fake.settings.batch_statuses:
            return Response(404, {"error": "Not Found"})
        refusal, headers = fake._gate(request, "api")
        if refusal is not None:
            return refusal
        ids = request.query.get("id[]", []) + request.query.get("id", [])
        with fake._lock:
            by_id = {s.id: s for s in fake.statuses if not s.deleted}
            shown = [by_id[i] for i in ids if i in by_id]
            body = [fake.status_json(s, [fake.media[m] for m in s.media_ids]) for s in shown]
        return Response(200, body, headers)

    def one(self, request: Request) -> Response:
        fake = self.fake
        refusal, headers = fake._gate(request, "api")
        if refusal is not None:
            return refusal
        wanted = request.path.rsplit("/", 1)[-1]
        with fake._lock:
            found = next((s for s in fake.statuses if s.id == wanted and not s.deleted), None)
            if found is None:
                return Response(404, NOT_FOUND, headers)
            body = fake.status_json(found, [fake.media[m] for m in found.media_ids])
        return Response(200, body, headers)
