"""The full endpoint set: the core handlers plus the action families, and their routes.

:class:`SandboxApi` is what the app dispatches to; each family lives in its own
module (:mod:`.tasks`, :mod:`.transactions`, :mod:`.automation`, …). :data:`ROUTES`
maps the paths those families answer (case-sensitive, under ``/1/``) to
``(handler name, fixed object type id or None = taken from objectID)``.
"""

from __future__ import annotations

from .automation import AutomationEndpoints
from .fieldeditor import FieldEditorEndpoints
from .pages import PageEndpoints
from .tasks import TaskEndpoints
from .transactions import TransactionEndpoints
from .webhooks import WebhookEndpoints

__all__ = ["ROUTES", "SandboxApi"]

Route = tuple[str, "int | None"]


class SandboxApi(
    FieldEditorEndpoints,
    TaskEndpoints,
    TransactionEndpoints,
    AutomationEndpoints,
    PageEndpoints,
    WebhookEndpoints,
):
    """Every endpoint of the sandbox."""


ROUTES: dict[str, dict[str, Route]] = {
    "task/assign": {"POST": ("task_assign", 1)},
    "task/complete": {"POST": ("task_complete", 1)},
    "task/cancel": {"POST": ("task_cancel", 1)},
    "task/reschedule": {"POST": ("task_reschedule", 1)},
    "task/reopen": {"POST": ("task_reopen", 1)},
    "transaction/refund": {"PUT": ("transaction_refund", 46)},
    "transaction/void": {"PUT": ("transaction_void", 46)},
    "transaction/writeOff": {"PUT": ("transaction_write_off", 46)},
    "transaction/markPaid": {"PUT": ("transaction_mark_paid", 46)},
    "transaction/convertToCollections": {"PUT": ("transaction_collections", 46)},
    "transaction/convertToDecline": {"PUT": ("transaction_decline", 46)},
    "transaction/rerunCommission": {"PUT": ("transaction_rerun_commission", 46)},
    "transaction/rerun": {"POST": ("transaction_rerun", 46)},
    "transaction/resendInvoice": {"POST": ("transaction_resend_invoice", 46)},
    "transaction/order": {"GET": ("transaction_order", 46), "PUT": ("transaction_order_update", 46)},
    "transaction/processManual": {"POST": ("transaction_process_manual", 46)},
    "CreditCard/default": {"PUT": ("card_default", 45)},
    "form": {"GET": ("form_html", 122)},
    "Form/getAllFormBlocks": {"GET": ("form_blocks", 122)},
    "Form/getBlocksByFormName": {"GET": ("form_blocks_by_name", 122)},
    "landingPage/getHostedURL": {"GET": ("hosted_url", 20)},
    "Webhook/subscribe": {"POST": ("webhook_subscribe", 145)},
    "Webhook/unsubscribe": {"DELETE": ("webhook_unsubscribe", 145)},
    "objects/pause": {"POST": ("pause", None)},
    **{
        f"{prefix}/fieldeditor": {
            "GET": ("fieldeditor_get", type_id),
            "POST": ("fieldeditor_post", type_id),
            "PUT": ("fieldeditor_put", type_id),
            "DELETE": ("fieldeditor_delete", type_id),
        }
        for prefix, type_id in (("Contacts", 0), ("Products", 16), ("objects", None))
    },
    "objects/unpause": {"POST": ("unpause", None)},
}
