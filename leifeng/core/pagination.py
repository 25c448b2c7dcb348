"""The one pagination every list API uses: ?page=N&page_size=M → {"items": [...], "count": total}."""

from ninja.pagination import PageNumberPagination


class Page(PageNumberPagination):
    def __init__(self, page_size: int = 50, max_page_size: int = 200, **kwargs):
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)
