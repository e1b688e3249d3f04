"""Every database call the API makes on `{{ cookiecutter.collection_name }}`, one round trip each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from {{ cookiecutter.package_name }}.database import (
    AsyncCollection,
    AsyncMongoClient,
    Document,
    unavailable_as_503,
)
from {{ cookiecutter.package_name }}.errors import Conflict
from {{ cookiecutter.package_name }}.settings import Settings

UNIQUE_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("unique") | py_tuple }}
SORTABLE_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("index") | py_tuple }}
# Unique indexes make duplicates impossible without a check-then-write race;
# (field, _id) indexes serve filters and keyset pages sorted on the field.
INDEXES = [IndexModel([(name, ASCENDING)], unique=True) for name in UNIQUE_FIELDS] + [
    IndexModel([(name, ASCENDING), ("_id", ASCENDING)]) for name in SORTABLE_FIELDS
]


class {{ cookiecutter.resource_name | pascal }}Repository:
    """The `{{ cookiecutter.collection_name }}` collection, seen through the operations the API needs."""

    def __init__(self, client: AsyncMongoClient[Document], settings: Settings) -> None:
        database = client[settings.mongodb_database]
        self.collection: AsyncCollection[Document] = database["{{ cookiecutter.collection_name }}"]

    async def ensure_indexes(self) -> None:
        """Create the indexes the API relies on; a no-op when they already exist.

        One command per index: FerretDB 1.24 drops the connection when one createIndexes
        repeats several existing indexes. MongoDB accepts either; this runs at start-up only.
        """
        async with unavailable_as_503():
            for index in INDEXES:
                await self.collection.create_indexes([index])

    async def insert(self, document: Document) -> ObjectId:
        async with unavailable_as_503():
            with _duplicates_as_409():
                result = await self.collection.insert_one(document)
        inserted: ObjectId = result.inserted_id
        return inserted

    async def find_page(
        self,
        filters: Document,
        sort: str,
        limit: int,
        after: tuple[Any, ObjectId] | None,
    ) -> list[Document]:
        """Up to `limit` documents in `sort` order (ties broken by `_id`), after `after`.

        `after` is the (sort value, `_id`) of the last document of the previous page.
        """
        field = "_id" if sort.lstrip("-") == "id" else sort.lstrip("-")
        direction = DESCENDING if sort.startswith("-") else ASCENDING
        query = filters
        if after is not None:
            position = _beyond(field, direction, *after)
            query = {"$and": [filters, position]} if filters else position
        order = [(field, direction)] if field == "_id" else [(field, direction), ("_id", direction)]
        async with unavailable_as_503():
            cursor = self.collection.find(query).sort(order).limit(limit)
            return await cursor.to_list(length=limit)

    async def get(self, id_: ObjectId) -> Document | None:
        async with unavailable_as_503():
            return await self.collection.find_one({"_id": id_})

    async def replace(self, id_: ObjectId, document: Document) -> Document | None:
        async with unavailable_as_503():
            with _duplicates_as_409():
                return await self.collection.find_one_and_replace(
                    {"_id": id_}, document, return_document=ReturnDocument.AFTER
                )

    async def update(self, id_: ObjectId, changes: Document) -> Document | None:
        async with unavailable_as_503():
            with _duplicates_as_409():
                return await self.collection.find_one_and_update(
                    {"_id": id_}, {"$set": changes}, return_document=ReturnDocument.AFTER
                )

    async def delete(self, id_: ObjectId) -> bool:
        async with unavailable_as_503():
            result = await self.collection.delete_one({"_id": id_})
        return result.deleted_count == 1


def _beyond(field: str, direction: int, value: Any, last_id: ObjectId) -> Document:
    """The documents after (value, last_id) in (field, _id) order; nulls sort lowest."""
    beyond = "$gt" if direction == ASCENDING else "$lt"
    if field == "_id":
        return {"_id": {beyond: last_id}}
    tie = {field: value, "_id": {beyond: last_id}}
    if value is None:
        return {"$or": [tie, {field: {"$ne": None}}]} if direction == ASCENDING else tie
    later: list[Document] = [{field: {beyond: value}}, tie]
    if direction == DESCENDING:
        later.append({field: None})
    return {"$or": later}


@contextmanager
def _duplicates_as_409() -> Iterator[None]:
    try:
        yield
    except DuplicateKeyError as error:
        pattern = (error.details or {}).get("keyPattern") or {}
        names = [name for name in pattern if name != "_id"]
        # Servers that omit keyPattern leave no doubt when only one field is unique.
        field = names[0] if names else UNIQUE_FIELDS[0] if len(UNIQUE_FIELDS) == 1 else "(body)"
        raise Conflict(f"Another {{ cookiecutter.resource_name }} already has this {field}.", field) from error
