"""Web pages on 127.0.0.1 for link cards: Open Graph pages, images, redirects, bad answers.

``LOOPBACK`` is the one fetch policy that lets 127.0.0.1 through, for tests and the
benchmarks: amplifier itself never sets ``FetchPolicy.allow``, so a real worker refuses
loopback like every other address that is not public.
"""

from __future__ import annotations

import html
from ipaddress import ip_network

from amplifier.cards import FetchPolicy
from amplifier.testing.fakeserver import FakeServer, Request, Response

LOOPBACK = FetchPolicy(
    allow=(ip_network("127.0.0.0/8"),), connect_timeout=2.0, read_timeout=2.0, deadline=5.0
)


def og_page(title: str, description: str = "", image: str = "", *, extra: str = "") -> str:
    """An HTML page whose Open Graph tags say ``title``, ``description`` and ``image``."""
    tags = [f'<meta property="og:title" content="{html.escape(title)}">']
    if description:
        tags.append(f'<meta property="og:description" content="{html.escape(description)}">')
    if image:
        tags.append(f'<meta property="og:image" content="{html.escape(image)}">')
    head = "\n".join(tags)
    return (
        f"<!doctype html><html><head><title>Other</title>{head}{extra}</head><body></body></html>"
    )


class FakePages(FakeServer):
    """Pages, images and redirects by path; ``received`` shows what was asked."""

    def page(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        extra = {"Content-Type": content_type, **(headers or {})}

        def serve(request: Request) -> Response:
            return Response(status, data, dict(extra))

        self.route("GET", path, serve)
        return f"{self.base_url}{path}"

    def image(self, path: str, data: bytes, content_type: str = "image/png") -> str:
        return self.page(path, data, content_type=content_type)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        def serve(request: Request) -> Response:
            return Response(status, b"", {"Location": location})

        self.route("GET", path, serve)
        return f"{self.base_url}{path}"
