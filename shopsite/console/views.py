"""The bus console's pages, hooked into the admin site (staff with the console's permissions: see site.py)."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView, View

from shopsite.bus.connection import BROKER_ERRORS
from shopsite.bus.deadletters import replay_dead_letters
from shopsite.bus.trace import correlation_ids_for_order, find_order_ids, trace_flows
from shopsite.models import REPLAY_PERMISSION

from .diagram import sequence_diagram
from .selectors import bus_overview, dead_letters, service_bus

LATEST = 15


class AdminPageMixin:
    admin_site = None
    title = ""

    def get_context_data(self, **kwargs):
        return {
            **self.admin_site.each_context(self.request),
            "title": self.title,
            "services": settings.SERVICES,
            "can_replay": self.request.user.has_perm(REPLAY_PERMISSION),
            **super().get_context_data(**kwargs),
        }


def _service_or_404(service: str) -> str:
    if service not in settings.SERVICES:
        raise Http404("No such service")
    return service


class TraceSearchForm(forms.Form):
    order = forms.CharField(
        required=False, max_length=64, label="Order id",
        widget=forms.TextInput(attrs={"placeholder": "order id, or its first 8 characters", "size": 40}),
    )
    correlation = forms.UUIDField(required=False, widget=forms.HiddenInput)


class BusConsoleView(AdminPageMixin, TemplateView):
    template_name = "admin/bus/console.html"
    title = "Bus console"

    def get_context_data(self, **kwargs):
        dead = dead_letters(settings.SERVICES)
        rows = [(bus, dead.by_service.get(bus.service)) for bus in bus_overview()]
        return super().get_context_data(rows=rows, dead=dead, trace_form=TraceSearchForm(), **kwargs)


class BusServiceDetailView(AdminPageMixin, TemplateView):
    template_name = "admin/bus/service_detail.html"

    def get_context_data(self, *, service: str, **kwargs):
        service = _service_or_404(service)
        return super().get_context_data(
            title=f"Bus console: {service}",
            service=service,
            bus=service_bus(service, latest=LATEST),
            dead=dead_letters([service]),
            outbox_url=reverse(f"{self.admin_site.name}:{service}_outboxmessage_changelist"),
            inbox_url=reverse(f"{self.admin_site.name}:{service}_inboxmessage_changelist"),
            outbox_change=f"{self.admin_site.name}:{service}_outboxmessage_change",
            inbox_change=f"{self.admin_site.name}:{service}_inboxmessage_change",
            **kwargs,
        )


class DeadLetterReplayView(View):
    """Send one parked message (``message_id``), or all of a service's, back to its queue."""

    admin_site = None
    http_method_names = ["post"]

    def post(self, request, service):
        service = _service_or_404(service)
        message_id = request.POST.get("message_id") or None
        try:
            count = replay_dead_letters(service, message_id=message_id)
        except BROKER_ERRORS as exc:
            messages.error(request, f"Nothing replayed: RabbitMQ could not be reached ({type(exc).__name__}).")
        else:
            if count:
                messages.success(request, f"{service}: {count} message(s) sent back to the queue.")
            else:
                messages.warning(request, f"{service}: no such dead letter (already replayed?).")
        return HttpResponseRedirect(self._back(request, service))

    def _back(self, request, service: str) -> str:
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            return target
        return reverse(f"{self.admin_site.name}:bus-service", args=[service])


class MessageTraceView(AdminPageMixin, TemplateView):
    template_name = "admin/bus/trace.html"
    title = "Message trace"

    def get_context_data(self, **kwargs):
        form = TraceSearchForm(self.request.GET or None)
        context = {"trace_form": form}
        if form.is_bound and form.is_valid():
            context.update(self._search(form.cleaned_data["order"].strip(), form.cleaned_data["correlation"]))
        return super().get_context_data(**context, **kwargs)

    def _search(self, text: str, correlation: uuid.UUID | None) -> dict:
        if correlation is not None:
            return self._traced([correlation])
        if not text:
            return {}
        candidates = find_order_ids(text)
        if len(candidates) != 1:
            return {"candidates": candidates, "searched": text}
        order_id = candidates[0]
        return {"order_id": order_id, "order_url": self._order_url(order_id),
                **self._traced(correlation_ids_for_order(order_id))}

    def _traced(self, correlation_ids) -> dict:
        trace = trace_flows(correlation_ids)
        return {"trace": trace, "diagram": sequence_diagram(trace, settings.SERVICES) if trace.messages else None}

    def _order_url(self, order_id: uuid.UUID) -> str | None:
        try:
            return reverse(f"{self.admin_site.name}:orders_order_change", args=[order_id])
        except NoReverseMatch:
            return None
