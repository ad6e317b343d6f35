"""Pagination and sorting shared by the list endpoints."""

from typing import Annotated

from fastapi import Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]


def sort_options(*fields: str) -> tuple[str, ...]:
    """Every ``field`` ascending and, with a leading '-', descending."""
    return tuple(option for name in fields for option in (name, f"-{name}"))


def page(session: Session, query: Select, *, sort: str, columns: dict, limit: int, offset: int) -> tuple[list, int]:
    """One page of ``query`` ordered by ``sort`` (then by id, so pages never overlap), and the total."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    column = columns[sort.removeprefix("-")]
    ordered = query.order_by(column.desc() if sort.startswith("-") else column.asc(), columns["id"].asc())
    return list(session.scalars(ordered.limit(limit).offset(offset))), total or 0
