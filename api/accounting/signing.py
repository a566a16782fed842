"""The platform's digital signature on an approved report (PDF, pyHanko), which a PDF viewer verifies.

The signature is an incremental update: the signed file begins with the very bytes that were
submitted (whose sha256 the snapshot stores), and appends a PAdES signature over all of them made
with the platform's key and certificate. Changing any byte afterwards breaks it.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from carbon_domain.reports.errors import SigningKeyError

__all__ = ["SIGNATURE_FIELD", "sign_pdf"]

SIGNATURE_FIELD = "CarbonflowApproval"


async def sign_pdf(pdf: bytes, *, key: Path, certificate: Path, reason: str, location: str = "") -> bytes:
    """`pdf` with the platform's signature appended; raises SigningKeyError naming the file at fault. Async:
    pyHanko's synchronous signer runs its own event loop, which cannot nest in a server's."""
    with warnings.catch_warnings():  # pyHanko imports cryptography's DSA types, which warn that DSA is deprecated
        warnings.filterwarnings("ignore", message="DSA is deprecated", category=UserWarning)
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers

    for path, what in ((key, "key"), (certificate, "certificate")):
        if not path.is_file():
            raise SigningKeyError(f"report signing {what} {str(path)!r} does not exist")
    signer = signers.SimpleSigner.load(str(key), str(certificate))
    if signer is None:  # pyHanko logs the parse error and answers None
        raise SigningKeyError(f"report signing key {str(key)!r} or certificate {str(certificate)!r} cannot be "
                              "read: both must be unencrypted PEM (or DER) files of one key pair")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(field_name=SIGNATURE_FIELD, reason=reason, location=location)
    signed = await signers.async_sign_pdf(writer, metadata, signer=signer)
    return signed.getvalue()  # type: ignore[no-any-return]
