"""The one pagination every list API uses: ?page=N&page_size=M → {"items": [...], "count": total}."""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

# No list holds anywhere near this many pages; a larger number is a client's mistake (or a fuzzer's), and
# its offset would not even fit PostgreSQL's bigint. Refused with a 422 that names `page`.
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 200


class Page(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=10_000)

    def __init__(self, page_size: int = 50, max_page_size: int = MAX_PAGE_SIZE, **kwargs):
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)
