"""How a validating webhook's refusal reaches the client, as the API server relays it.

The API server (k8s.io/apiserver admission/plugin/webhook/errors/statuserror.go, the
v1.31 form the lab reports) keeps the webhook's code (at least 400), reason and details
and prefixes the message with `admission webhook "<name>" denied the request: `.
KubeVirt (pkg/util/webhooks/webhooks.go) and CDI (pkg/apiserver/webhooks/handler.go)
build their responses from field causes in their own ways; both are reproduced here so
that a client reading `.message`, `.code` or `details.causes` sees what a cluster sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ApiError

# Webhook names as KubeVirt's virt-operator and CDI's operator register them.
VMI_CREATE = "virtualmachineinstances-create-validator.kubevirt.io"
VMI_UPDATE = "virtualmachineinstances-update-validator.kubevirt.io"
VM_VALIDATOR = "virtualmachine-validator.kubevirt.io"
MIGRATION_CREATE = "migration-create-validator.kubevirt.io"
MIGRATION_UPDATE = "migration-update-validator.kubevirt.io"
DATAVOLUME_VALIDATE = "datavolume-validate.cdi.kubevirt.io"

KUBEVIRT_MAX_CAUSES = 10  # KubeVirt lists ten causes, then "and N more validation errors"


@dataclass(frozen=True)
class Cause:
    """One metav1.StatusCause: `reason` is the cause type (FieldValueInvalid, ...)."""

    reason: str
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


def invalid(message: str, field: str = "") -> Cause:
    return Cause("FieldValueInvalid", message, field)


def required(message: str, field: str = "") -> Cause:
    return Cause("FieldValueRequired", message, field)


class WebhookDenial(ApiError):
    """An ApiError whose Status omits an empty reason, as a relayed webhook Status does."""

    def status(self) -> dict[str, Any]:
        body = super().status()
        if not self.reason:
            body.pop("reason", None)
        return body


def relayed(webhook: str, code: int, reason: str, message: str,
            causes: list[Cause] | None = None) -> WebhookDenial:
    """The API server's answer when `webhook` refused with this Status."""
    details = {"causes": [c.as_dict() for c in causes]} if causes else None
    text = f'admission webhook "{webhook}" denied the request: {message}'
    return WebhookDenial(max(code, 400), reason, text, details)


def kubevirt_causes(webhook: str, causes: list[Cause]) -> WebhookDenial:
    """KubeVirt's ToAdmissionResponse: 422 Invalid, the first ten messages joined."""
    shown = causes[:KUBEVIRT_MAX_CAUSES]
    message = ", ".join(c.message for c in shown)
    if len(causes) > KUBEVIRT_MAX_CAUSES:
        message += f", and {len(causes) - KUBEVIRT_MAX_CAUSES} more validation errors"
    return relayed(webhook, 422, "Invalid", message, shown)


def kubevirt_error(webhook: str, message: str) -> WebhookDenial:
    """KubeVirt's ToAdmissionResponseError: 400 with the error text and no reason."""
    return relayed(webhook, 400, "", message)


def cdi_causes(webhook: str, causes: list[Cause]) -> WebhookDenial:
    """CDI's toRejectedAdmissionResponse: 422, no reason, each message after a space."""
    message = "".join(f" {c.message}" for c in causes)
    return relayed(webhook, 422, "", message, causes)
