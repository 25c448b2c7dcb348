"""Types every API schema shares, defined once."""

from typing import Annotated

from pydantic import Field

# A primary key as the database can hold it (bigint): anything larger is a 422 naming the field, never a 500.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
