"""The floor the generated service is measured against: hand-written, no validation.

What a senior engineer writes in a hurry for `/students`: a Tornado handler per route, one
PyMongo call each, `json.dumps` of the document. No validation, authentication, metrics,
access log, ETags or error bodies beyond the status. `benchmarks/run.py` starts it with the
generated project's Python, so both run the same Tornado and PyMongo:

    python benchmarks/minimal.py --port 8001 --mongodb-uri mongodb://127.0.0.1:27017/ \
        --database bench_minimal
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from tornado.web import Application, HTTPError, RequestHandler

Document = dict[str, Any]


def public(document: Document) -> str:
    document["id"] = str(document.pop("_id"))
    return json.dumps(document, default=str)  # ObjectIds (and datetimes) as text


def object_id(text: str) -> ObjectId:
    if not ObjectId.is_valid(text):
        raise HTTPError(404)
    return ObjectId(text)


class StudentsHandler(RequestHandler):
    def initialize(self, students: AsyncCollection[Document]) -> None:
        self.students = students

    async def get(self) -> None:
        limit = int(self.get_query_argument("limit", "50"))
        documents = await self.students.find().sort("_id", 1).limit(limit).to_list(limit)
        for document in documents:
            document["id"] = str(document.pop("_id"))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"students": documents}, default=str))

    async def post(self) -> None:
        document = json.loads(self.request.body)
        await self.students.insert_one(document)
        self.set_status(201)
        self.set_header("Content-Type", "application/json")
        self.finish(public(document))


class StudentHandler(RequestHandler):
    def initialize(self, students: AsyncCollection[Document]) -> None:
        self.students = students

    def send(self, document: Document | None) -> None:
        if document is None:
            raise HTTPError(404)
        self.set_header("Content-Type", "application/json")
        self.finish(public(document))

    async def get(self, id_text: str) -> None:
        self.send(await self.students.find_one({"_id": object_id(id_text)}))

    async def put(self, id_text: str) -> None:
        replacement = json.loads(self.request.body)
        after = ReturnDocument.AFTER
        self.send(
            await self.students.find_one_and_replace(
                {"_id": object_id(id_text)}, replacement, return_document=after
            )
        )

    async def patch(self, id_text: str) -> None:
        changes = json.loads(self.request.body)
        after = ReturnDocument.AFTER
        self.send(
            await self.students.find_one_and_update(
                {"_id": object_id(id_text)}, {"$set": changes}, return_document=after
            )
        )

    async def delete(self, id_text: str) -> None:
        result = await self.students.delete_one({"_id": object_id(id_text)})
        if not result.deleted_count:
            raise HTTPError(404)
        self.set_status(204)
        self.finish()


class HealthHandler(RequestHandler):
    def get(self) -> None:
        self.finish({"status": "ok"})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mongodb-uri", required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    client: AsyncMongoClient[Document] = AsyncMongoClient(args.mongodb_uri)
    students = client[args.database]["students"]
    shared = {"students": students}
    app = Application(
        [
            (r"/students", StudentsHandler, shared),
            (r"/students/([^/]+)", StudentHandler, shared),
            (r"/healthz", HealthHandler),
        ]
    )
    app.listen(args.port, "127.0.0.1")
    print(f"listening on http://127.0.0.1:{args.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
