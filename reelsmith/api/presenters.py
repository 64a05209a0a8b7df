"""Task records as each endpoint shows them: the product modules (reelsmith/products) own each
answer's shape, with Akool's field names and quirks; this module gives them the caller and the
signed links to result files, and makes catalog links absolute."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property

from starlette.requests import Request

from reelsmith.errors import ApiError, Code
from reelsmith.products import UnknownProduct, product_named
from reelsmith.products.common import Owner
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.storage.base import StoredFile
from reelsmith.storage.signing import UrlSigner
from reelsmith.store.models import TaskRecord


class Presenter:
    """Tasks as the caller sees them: each product module's view, with signed file links."""

    def __init__(self, signer: UrlSigner, base_url: Callable[[], str], caller: Caller) -> None:
        # The base URL is only worked out when a file link is shown (polls of unfinished
        # tasks, the common case, never need it).
        self._base_url = base_url
        self.signer = signer
        self.owner = Owner(caller.account_id, caller.team_id)

    @cached_property
    def base_url(self) -> str:
        return self._base_url()

    def link(self, task: TaskRecord, name: str) -> str:
        """The signed URL of the task's result file ``name``; empty when it has none."""
        stored = task.result.get("files", {}).get(name)
        return self.signer.url(self.base_url, StoredFile.from_json(stored)) if stored else ""

    def info(self, task: TaskRecord) -> Mapping[str, object]:
        """infobymodelid's view of any product's task."""
        try:
            product = product_named(task.product)
        except UnknownProduct as exc:
            raise ApiError(Code.CREATE_FAILED, f"the task {task.id} cannot be shown: {exc}") from exc
        return product.info(task, self.owner, self.link)


def base_url_of(runtime: Runtime, request: Request) -> str:
    """Where file links point: the configured public URL, else where this request came to."""
    return runtime.settings.public_url or str(request.base_url)


def presenter_for(runtime: Runtime, request: Request, caller: Caller) -> Presenter:
    return Presenter(runtime.signer, lambda: base_url_of(runtime, request), caller)


# Catalog links (badges, avatars, previews) are the same for everyone: browsers may keep them
# and pages of any origin may show them.
PUBLIC_ASSET_HEADERS = {"cache-control": "public, max-age=86400", "access-control-allow-origin": "*"}
