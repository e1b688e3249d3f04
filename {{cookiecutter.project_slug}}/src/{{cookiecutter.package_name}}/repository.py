"""Every database call the API makes on `{{ cookiecutter.collection_name }}`, one round trip each."""

from __future__ import annotations

from bson import ObjectId
from pymongo import ReturnDocument

from {{ cookiecutter.package_name }}.database import (
    AsyncCollection,
    AsyncMongoClient,
    Document,
    unavailable_as_503,
)
from {{ cookiecutter.package_name }}.settings import Settings


class {{ cookiecutter.resource_name | pascal }}Repository:
    """The `{{ cookiecutter.collection_name }}` collection, seen through the operations the API needs."""

    def __init__(self, client: AsyncMongoClient[Document], settings: Settings) -> None:
        database = client[settings.mongodb_database]
        self.collection: AsyncCollection[Document] = database["{{ cookiecutter.collection_name }}"]

    async def ensure_indexes(self) -> None:
        """Create the indexes the API relies on; a no-op when they already exist."""

    async def insert(self, document: Document) -> ObjectId:
        async with unavailable_as_503():
            result = await self.collection.insert_one(document)
        inserted: ObjectId = result.inserted_id
        return inserted

    async def find_page(
        self, filters: Document, limit: int, after: ObjectId | None
    ) -> list[Document]:
        """Up to `limit` documents in `_id` order, strictly after the `after` id."""
        query = {**filters, "_id": {"$gt": after}} if after else filters
        async with unavailable_as_503():
            cursor = self.collection.find(query).sort("_id", 1).limit(limit)
            return await cursor.to_list(length=limit)

    async def get(self, id_: ObjectId) -> Document | None:
        async with unavailable_as_503():
            return await self.collection.find_one({"_id": id_})

    async def replace(self, id_: ObjectId, document: Document) -> Document | None:
        async with unavailable_as_503():
            return await self.collection.find_one_and_replace(
                {"_id": id_}, document, return_document=ReturnDocument.AFTER
            )

    async def update(self, id_: ObjectId, changes: Document) -> Document | None:
        async with unavailable_as_503():
            return await self.collection.find_one_and_update(
                {"_id": id_}, {"$set": changes}, return_document=ReturnDocument.AFTER
            )

    async def delete(self, id_: ObjectId) -> bool:
        async with unavailable_as_503():
            result = await self.collection.delete_one({"_id": id_})
        return result.deleted_count == 1
