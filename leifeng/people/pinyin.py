"""Pinyin keys for search: 张三丰 → ('zhangsanfeng', 'zsf'). pypinyin picks heteronyms by context."""

from pypinyin import Style, lazy_pinyin


def keys(name: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(name, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full[:200], initials[:50]
