"""The PVC rules the API server applies, kept callable where storage looked for them.

They live in `suite.lab.admission.core_pvc` with the other admission rules (see
docs/admission.md); storage registers `claim_admission` and CDI reuses `default_class`.
The imports are deferred because `suite.lab.admission` itself uses `storage.common`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store


def claim_admission(store: Store) -> Any:
    from ..admission.core_pvc import claim_admission as hook

    return hook(store)


def default_class(store: Store, pvc: dict[str, Any]) -> None:
    from ..admission.core_pvc import default_class as apply

    apply(store, pvc)
