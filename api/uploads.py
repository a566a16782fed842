"""Reading the one file of a multipart upload (field `file`), capped in size, for the routes that take files.

A route checks the request's media type (`media_type`) and then calls `read_one_file`, which answers in the
route's own words: 422 when the form has no `file`, 415 when its name ends otherwise than the route accepts
(checked before anything is read), 413 with the limit when it is larger than the route takes. An import sent
as JSON rows records `json_sha256` of them where a file's import records the SHA-256 of its bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile

__all__ = ["OneFile", "json_sha256", "media_type", "read_one_file"]

_UNIT_BYTES = {"MiB": 1024 * 1024, "KiB": 1024}


@dataclass(frozen=True)
class OneFile:
    """The form (for its other fields), the uploaded file as sent and its bytes."""

    form: FormData
    upload: UploadFile
    data: bytes

    @property
    def name(self) -> str:
        return self.upload.filename or ""


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower case: 'multipart/form-data', 'application/json', ''."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def json_sha256(value: Any) -> str:
    """The SHA-256 of `value` as canonical JSON (sorted keys; dates and decimals as their text)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


async def read_one_file(request: Request, *, max_bytes: int, holding: str, plural: str,
                        unit: Literal["MiB", "KiB"] = "MiB", suffixes: tuple[str, ...] = (),
                        named: str = "the file") -> OneFile:
    """The multipart `file` of `request` read up to `max_bytes`.

    The errors name what the route takes: `holding` completes "multipart uploads need a 'file' field with ..."
    (422), `plural` starts "... are limited to 20 MiB" (413, the limit in whole `unit`s), and, with `suffixes`,
    `named` starts "... is .csv or .xlsx, got 'notes.txt'" (415).
    """
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, f"multipart uploads need a 'file' field with {holding}")
    if suffixes:
        name = upload.filename or ""
        if Path(name).suffix.lower() not in suffixes:
            raise HTTPException(415, f"{named} is {' or '.join(suffixes)}, got {name or 'a file without a name'!r}")
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HTTPException(413, f"{plural} are limited to {max_bytes // _UNIT_BYTES[unit]} {unit}")
    return OneFile(form=form, upload=upload, data=data)
