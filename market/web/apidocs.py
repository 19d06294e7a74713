"""The API documentation page (``/schema``): Swagger UI served from ``/static/vendor/swagger-ui``
(vendored, Apache-2.0; see its VERSION file), started by ``/static/api-docs.js``. No CDN and no
inline script or style, so that the page works under the Content-Security-Policy and nothing is
downloaded at run time."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

VENDOR = "/static/vendor/swagger-ui"


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        spec = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec="{spec}"></div>
  <script src="{VENDOR}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
""".encode()
