"""Every database call the API makes, one round trip each, for any resource."""
{%- set any_unique = cookiecutter.resources | parse_resources | selectattr("unique_fields") | list %}
{%- set writing = "self._writing(" if any_unique else "unavailable_as_503(self.settings, " %}

from __future__ import annotations
{% if any_unique %}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
{%- endif %}
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
{%- if any_unique %}
from pymongo.errors import DuplicateKeyError
{%- endif %}

from {{ cookiecutter.package_name }}.database import (
    AsyncCollection,
    AsyncMongoClient,
    Document,
    unavailable_as_503,
)
{%- if any_unique %}
from {{ cookiecutter.package_name }}.errors import Conflict
{%- endif %}
from {{ cookiecutter.package_name }}.models import Resource, parse_object_id
from {{ cookiecutter.package_name }}.resources import RESOURCES
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


def indexes(resource: Resource) -> list[IndexModel]:
{%- if any_unique %}
    """The indexes a resource declares.

    A unique index per unique field makes duplicates impossible without a check-then-write
    race; a (field, _id) index per indexed field serves its filters and keyset pages.
    """
    return [
        *(
            IndexModel([(name, ASCENDING)], unique=True, sparse=name in resource.sparse)
            for name in resource.unique
        ),
        *(IndexModel([(name, ASCENDING), ("_id", ASCENDING)]) for name in resource.indexed),
    ]
{%- else %}
    """A (field, _id) index per indexed field, to serve its filters and keyset pages."""
    return [IndexModel([(name, ASCENDING), ("_id", ASCENDING)]) for name in resource.indexed]
{%- endif %}


class Repository:
    """One resource's collection, seen through the operations the API needs.

    Every write stores a fresh `_v` token in the same round trip: it is the document's ETag,
    and a write conditioned on a set of versions (`If-Match`) filters on it. Optional fields
    are stored absent rather than null, so a sparse unique index lets any number of
    documents leave them out.
    """

    def __init__(
        self, client: AsyncMongoClient[Document], settings: Settings, resource: Resource
    ) -> None:
        database = client[settings.mongodb_database]
        self.collection: AsyncCollection[Document] = database[resource.name]
        self.settings = settings
        self.resource = resource
        self.indexes = indexes(resource)

    async def ensure_indexes(self) -> None:
        """Create the indexes the API relies on; a no-op when they already exist.

        One command per index: FerretDB 1.24 drops the connection when one createIndexes
        repeats several existing indexes. MongoDB accepts either; this runs at start-up only.
        """
        for index in self.indexes:
            async with unavailable_as_503(self.settings, "createIndexes"):
                await self.collection.create_indexes([index])

    async def insert(self, document: Document) -> Document:
        """Store a new document; return it as stored, with its `_id` and `_v`."""
        stored = {**_present(document), VERSION: ObjectId()}
        async with {{ writing }}"insert"):
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
        # One round trip: the whole page in the first batch (the server's default is 101),
        # and the server gives up when the service would.
        timeout = self.settings.mongodb_timeout_ms
        found = self.collection.find(query, max_time_ms=timeout, batch_size=limit)
        cursor = found.sort(order).limit(limit)
        async with unavailable_as_503(self.settings, "find"):
            return await cursor.to_list(length=limit)

    async def get(self, id_: ObjectId) -> Document | None:
        async with unavailable_as_503(self.settings, "find"):
            return await self.collection.find_one({"_id": id_})

    async def replace(
        self, id_: ObjectId, document: Document, precondition: Precondition = UNCONDITIONAL
    ) -> Document | None:
        """The replaced document, or None when no document has this id and version."""
        replacement = {**_present(document), VERSION: ObjectId()}
        async with {{ writing }}"findAndModify"):
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
        async with {{ writing }}"findAndModify"):
            return await self.collection.find_one_and_update(
                _selector(id_, precondition), update, return_document=ReturnDocument.AFTER
            )

    async def delete(self, id_: ObjectId, precondition: Precondition = UNCONDITIONAL) -> bool:
        async with unavailable_as_503(self.settings, "delete"):
            result = await self.collection.delete_one(_selector(id_, precondition))
        return result.deleted_count == 1

{%- if any_unique %}

    @asynccontextmanager
    async def _writing(self, operation: str) -> AsyncIterator[None]:
        """A write's round trip: 503 when the database is unavailable, 409 on a duplicate."""
        async with unavailable_as_503(self.settings, operation):
            try:
                yield
            except DuplicateKeyError as error:
                raise self._conflict(error) from error

    def _conflict(self, error: DuplicateKeyError) -> Conflict:
        """The 409, naming the field whose unique index refused the write."""
        pattern = (error.details or {}).get("keyPattern") or {}
        names = [name for name in pattern if name != "_id"]
        # Servers that omit keyPattern leave no doubt when only one field is unique.
        unique = self.resource.unique
        field = names[0] if names else unique[0] if len(unique) == 1 else "(body)"
        return Conflict(f"Another {self.resource.singular} already has this {field}.", field)
{%- endif %}


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
    tokens = [token for tag in tags if (token := parse_object_id(tag)) is not None]
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


def open_repositories(
    client: AsyncMongoClient[Document], settings: Settings
) -> dict[str, Repository]:
    """A repository per resource, by collection name."""
    return {resource.name: Repository(client, settings, resource) for resource in RESOURCES}
