"""`python -m chatserver.views.api_docs`: rewrite the reference part of docs/api.md from the OpenAPI document
(everything from "## Reference" on; the hand-written part above it is kept)."""
from __future__ import annotations

from pathlib import Path

from .api_v1 import OPERATIONS
from .api_v1_spec import document, markdown

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "api.md"


def main() -> None:
    text = DOCS.read_text()
    head = text[:text.index("## Reference")] if "## Reference" in text else text
    DOCS.write_text(head + markdown(document(OPERATIONS)) + "\n")


if __name__ == "__main__":
    main()
