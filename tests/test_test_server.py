"""The session's MongoDB-compatible server works with both drivers the template offers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from mongodb_server import ServerError, ferretdb


@pytest.mark.parametrize("driver", ["pymongo", "motor"])
def test_driver_round_trips_and_enforces_a_unique_index(mongodb_uri: str, driver: str) -> None:
    import asyncio

    async def exercise() -> None:
        client = (
            AsyncMongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
            if driver == "pymongo"
            else AsyncIOMotorClient(mongodb_uri, serverSelectionTimeoutMS=5000)
        )
        database = client[f"fixture_{uuid.uuid4().hex[:8]}"]
        try:
            await database.students.create_index("email", unique=True)
            inserted = await database.students.insert_one(
                {"name": "Ada", "email": "ada@example.com"}
            )
            found = await database.students.find_one({"_id": inserted.inserted_id})
            assert found == {"_id": inserted.inserted_id, "name": "Ada", "email": "ada@example.com"}
            with pytest.raises(DuplicateKeyError):
                await database.students.insert_one({"name": "Eve", "email": "ada@example.com"})
            assert await database.students.count_documents({}) == 1
        finally:
            await client.drop_database(database.name)
            if driver == "pymongo":
                await client.close()
            else:
                client.close()

    asyncio.run(exercise())


def test_missing_server_fails_at_once_saying_how_to_get_one(tmp_path: Path) -> None:
    server = ferretdb(tmp_path, binary=tmp_path / "no-such-ferretdb")
    with pytest.raises(ServerError, match=r"Run `make ferretdb` \(needs Go\) or set MONGODB_URI"):
        server.__enter__()
