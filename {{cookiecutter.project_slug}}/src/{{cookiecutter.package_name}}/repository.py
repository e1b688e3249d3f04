"""Every database call the API makes on `{{ cookiecutter.collection_name }}`, one round trip each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

VERSION = "_v"
LEGACY_VERSION = "0"


@dataclass(frozen=True)
class Precondition:
    """The versions a write is conditioned on: `If-Match` and `If-None-Match` entity tags.

    None means the header was not sent; `*` in `match` accepts any stored version.
    """

    match: frozenset[str] | None = None
    none_match: frozenset[str] | None = None

    @property
    def given(self) -> bool:
        return self.match is not None or self.none_match is not None


UNCONDITIONAL = Precondition()

UNIQUE_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("unique") | py_tuple }}
# Optional fields are stored absent, never null: a sparse index lets many documents omit one.
SPARSE_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("optional_unique") | py_tuple }}
SORTABLE_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("sortable") | py_tuple }}
# A list's index is multikey: it serves "contains" filters, not keyset pages.
LIST_INDEX_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("multikey") | py_tuple }}
# Unique indexes make duplicates impossible without a check-then-write race;
# (field, _id) indexes serve filters and keyset pages sorted on the field.
INDEXES = [
    *(
        IndexModel([(name, ASCENDING)], unique=True, sparse=name in SPARSE_FIELDS)
        for name in UNIQUE_FIELDS
    ),
    *(IndexModel([(name, ASCENDING), ("_id", ASCENDING)]) for name in SORTABLE_FIELDS),
    *(IndexModel([(name, ASCENDING)]) for name in LIST_INDEX_FIELDS),
]


class {{ cookiecutter.resource_name | pascal }}Repository:
    """The `{{ cookiecutter.collection_name }}` collection, seen through the operations the API needs.

    Every write stores a fresh `_v` token in the same round trip: it is the document's ETag,
    and a write conditioned on a set of versions (`If-Match`) filters on it. Optional fields
    are stored absent rather than null, so a sparse unique index lets any number of
    documents leave them out.
    """

    def __init__(self, client: AsyncMongoClient[Document], settings: Settings) -> None:
        database = client[settings.mongodb_database]
        self.collection: AsyncCollection[Document] = database["{{ cookiecutter.collection_name }}"]
        self.settings = settings

    async def ensure_indexes(self) -> None:
        """Create the indexes the API relies on; a no-op when they already exist.

        One command per index: FerretDB 1.24 drops the connection when one createIndexes
        repeats several existing indexes. MongoDB accepts either; this runs at start-up only.
        """
        async with unavailable_as_503(self.settings):
            for index in INDEXES:
                await self.collection.create_indexes([index])

    async def insert(self, document: Document) -> Document:
        """Store a new document; return it as stored, with its `_id` and `_v`."""
        stored = {**_present(document), VERSION: ObjectId()}
        async with unavailable_as_503(self.settings):
            with _duplicates_as_409():
                result = await self.collection.insert_one(stored)
        return {**stored, "_id": result.inserted_id}

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
        # Documents another program stored with a different `_id` type have no URL here,
        # and would break keyset pages: MongoDB compares `_id` only within one type.
        clauses = [{"_id": {"$type": "objectId"}}, filters]
        if after is not None:
            clauses.append(_beyond(field, direction, *after))
        query = {"$and": [clause for clause in clauses if clause]}
        order = [(field, direction)] if field == "_id" else [(field, direction), ("_id", direction)]
        async with unavailable_as_503(self.settings):
            cursor = self.collection.find(query).sort(order).limit(limit)
            return await cursor.to_list(length=limit)

    async def get(self, id_: ObjectId) -> Document | None:
        async with unavailable_as_503(self.settings):
            return await self.collection.find_one({"_id": id_})

    async def replace(
        self, id_: ObjectId, document: Document, precondition: Precondition = UNCONDITIONAL
    ) -> Document | None:
        """The replaced document, or None when no document has this id and version."""
        replacement = {**_present(document), VERSION: ObjectId()}
        async with unavailable_as_503(self.settings):
            with _duplicates_as_409():
                return await self.collection.find_one_and_replace(
                    _selector(id_, precondition), replacement, return_document=ReturnDocument.AFTER
                )

    async def update(
        self, id_: ObjectId, changes: Document, precondition: Precondition = UNCONDITIONAL
    ) -> Document | None:
        """Set the given fields (a None unsets one); None when no document matches."""
        update: Document = {"$set": {**_present(changes), VERSION: ObjectId()}}
        if removed := {name: "" for name, value in changes.items() if value is None}:
            update["$unset"] = removed
        async with unavailable_as_503(self.settings):
            with _duplicates_as_409():
                return await self.collection.find_one_and_update(
                    _selector(id_, precondition), update, return_document=ReturnDocument.AFTER
                )

    async def delete(self, id_: ObjectId, precondition: Precondition = UNCONDITIONAL) -> bool:
        async with unavailable_as_503(self.settings):
            result = await self.collection.delete_one(_selector(id_, precondition))
        return result.deleted_count == 1


def version_tag(document: Document) -> str:
    """The document's ETag value: its `_v` token ("0" for documents written without one)."""
    version = document.get(VERSION)
    return str(version) if isinstance(version, ObjectId) else LEGACY_VERSION


def _selector(id_: ObjectId, precondition: Precondition) -> Document:
    """The filter for one document, limited to the versions the precondition allows."""
    selector: Document = {"_id": id_}
    if precondition.match is not None and "*" not in precondition.match:
        selector["$or"] = _versions(precondition.match)
    if precondition.none_match is not None:
        selector["$nor"] = _versions(precondition.none_match)
    return selector


def _versions(tags: frozenset[str]) -> list[Document]:
    """Conditions matching a stored version named by one of `tags`."""
    tokens = [ObjectId(tag) for tag in tags if ObjectId.is_valid(tag) and len(tag) == 24]
    choices: list[Document] = [{VERSION: {"$in": tokens}}]
    if LEGACY_VERSION in tags:
        choices.append({VERSION: {"$exists": False}})
    return choices


def _present(document: Document) -> Document:
    """The fields that have a value: optional fields are stored absent, never null."""
    return {name: value for name, value in document.items() if value is not None}


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
