"""Acme intranet: a document viewer with a deliberate path traversal (the training target).

GET /view?doc=docs/welcome.txt joins the parameter onto /srv/www without normalising it, so
/view?doc=../flag.txt reads /srv/flag.txt. Do not copy this handler anywhere real.
"""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROOT = "/srv/www"


class Handler(BaseHTTPRequestHandler):
    server_version = "AcmeIntranet/1.0"

    def do_GET(self):
        url = urlparse(self.path)
        if url.path in ("/", "/index.html"):
            return self._file(os.path.join(ROOT, "index.html"), "text/html")
        if url.path == "/view":
            doc = parse_qs(url.query).get("doc", [""])[0]
            # The weakness: no normalisation, so "../" escapes ROOT.
            return self._file(ROOT + "/" + doc, "text/plain")
        self.send_error(404)

    def _file(self, path, content_type):
        try:
            with open(path, "rb") as handle:
                body = handle.read()
        except OSError:
            return self.send_error(404)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "80"))), Handler).serve_forever()  # noqa: S104
