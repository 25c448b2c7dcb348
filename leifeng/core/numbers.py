"""Public identifiers from counters, allocated in blocks under a row lock (safe under concurrency)."""

from django.db import transaction

from leifeng.core.models import NumberSequence


def allocate(name: str, count: int = 1) -> range:
    """Reserve `count` consecutive numbers of sequence `name`; returns them as a range."""
    with transaction.atomic():
        NumberSequence.objects.get_or_create(name=name)
        seq = NumberSequence.objects.select_for_update().get(name=name)
        start = seq.last + 1
        seq.last += count
        seq.save(update_fields=["last"])
    return range(start, start + count)
