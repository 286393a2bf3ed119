"""The owner page (业主自助缴费, no staff login) and its staff side (the link on the household
page, revoking it, finance's list of invoice requests).

Every owner view starts from the signed link in the URL; everything shown or changed belongs to the
link's account, and any id in a request is looked up inside that account only (LAW.md §2).
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from wuye.core.errors import ValidationFailed
from wuye.core.masking import mask_phone
from wuye.core.roles import (
    INVOICE_ISSUER_ROLES,
    OWNER_INVOICE_LIST_ROLES,
    OWNER_LINK_REVOKER_ROLES,
)
from wuye.core.scope import access_role, project_ids_for, role_in
from wuye.ledger.pdf import receipt_pdf
from wuye.ledger.selectors.receipts import receipt_data
from wuye.ledger.selectors.window import account_of_room
from wuye.owner import links, paying, selectors, services, wechat_state
from wuye.owner.models import InvoiceStatus, OwnerInvoiceRequest, OwnerLink
from wuye.owner.qr import qr_svg
from wuye.payments.channels import wechat_oauth
from wuye.payments.channels.base import ChannelError
from wuye.registry.models import Room

SESSION_KEY = "owner_verified"


def client_ip(request) -> str:
    """The owner's address for the per-address code limit: behind the reverse proxy
    (``WUYE_BEHIND_PROXY``) the entry the nearest proxy added to X-Forwarded-For."""
    if getattr(settings, "WUYE_BEHIND_PROXY", False):
        hops = [
            h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()
        ]
        count = int(getattr(settings, "AXES_IPWARE_PROXY_COUNT", 1) or 1)
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def _session_token(request, link: OwnerLink) -> str:
    return (request.session.get(SESSION_KEY) or {}).get(str(link.pk), "")


def is_verified(request, link: OwnerLink) -> bool:
    return links.is_verified(link, _session_token(request, link))


def _owner_view(verified: bool = False):
    """Reads the link (refused: altered, expired, revoked); with ``verified``, the page asks for
    the SMS code first."""

    def wrap(view):
        @wraps(view)
        def inner(request, token: str, *args, **kwargs):
            try:
                link = links.link_read(token)
            except links.LinkRefused as exc:
                return render(request, "owner/refused.html", {"message": exc.message}, status=403)
            if verified and not is_verified(request, link):
                messages.info(request, "请先通过短信验证码验证身份")
                return redirect("owner:page", token)
            request.owner_link, request.owner_token = link, token
            return view(request, link, token, *args, **kwargs)

        return inner

    return wrap


def _back(token: str, anchor: str = ""):
    return redirect(reverse("owner:page", args=[token]) + anchor)


@require_GET
@_owner_view()
def page(request, link: OwnerLink, token: str):
    verified = is_verified(request, link)
    data = selectors.owner_page(link, verified=verified)
    context = {"p": data, "token": token, "verified": verified, "channels": paying.CHANNELS}
    if verified:
        context["payments"] = selectors.payments_of(link, 24)
        context["allow_skip"] = paying.allow_skip(link)
    else:
        context["phones"] = [
            (p.pk, mask_phone(p.number)) for p in selectors.phones_on_file(link.account)
        ]
    return render(request, "owner/page.html", context)


@require_POST
@_owner_view()
def code_send(request, link: OwnerLink, token: str):
    try:
        phone_id = int(request.POST.get("phone") or 0)
        services.code_send(link=link, phone_id=phone_id, ip=client_ip(request))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "验证码已发送，请查收短信（5 分钟内有效）")
    return _back(token, "#verify")


@require_POST
@_owner_view()
def verify(request, link: OwnerLink, token: str):
    try:
        services.code_verify(link=link, code=request.POST.get("code", ""))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return _back(token, "#verify")
    verified = dict(request.session.get(SESSION_KEY) or {})
    verified[str(link.pk)] = links.verified_token(link)
    request.session[SESSION_KEY] = verified
    request.session.cycle_key()
    messages.success(request, "验证成功")
    return _back(token)


@require_POST
@_owner_view()
def leave(request, link: OwnerLink, token: str):
    verified = dict(request.session.get(SESSION_KEY) or {})
    verified.pop(str(link.pk), None)
    request.session[SESSION_KEY] = verified
    return _back(token)


@require_POST
@_owner_view()
def pay(request, link: OwnerLink, token: str):
    verified = is_verified(request, link)
    ahead = request.POST.get("ahead", "")
    try:
        months: int | str = 0
        if ahead and not verified:
            raise ValidationFailed("请先通过短信验证码验证身份后再预交", field="pay_ahead_months")
        if ahead:
            # 预交: every open bill first (no skipping), then the months ahead.
            months = ahead
            bill_ids = selectors.chosen_bill_ids(link)
        elif verified:
            ids = [int(i) for i in request.POST.getlist("bill") if i.isdigit()]
            bill_ids = selectors.chosen_bill_ids(
                link, up_to=request.POST.get("up_to", ""), bill_ids=ids or None
            )
        else:  # a forwarded link pays everything owed, nothing else
            bill_ids = selectors.chosen_bill_ids(link)
        channel = request.POST.get("channel", "")
        user_agent = request.headers.get("User-Agent", "")
        if paying.jsapi_ready(channel, user_agent):
            # Inside WeChat: the official account's OAuth step first (the payer's openid), then
            # the JSAPI order is made where WeChat sends the payer back (wechat_back).
            state = wechat_state.state_make(
                request.session, link, {"bills": bill_ids, "ahead": str(months or 0)}
            )
            back = request.build_absolute_uri(reverse("owner:wechat_back", args=[token]))
            url = wechat_oauth.authorize_url(redirect_uri=back, state=state)
            return render(request, "owner/wechat_oauth.html", {"url": url, "token": token})
        order = paying.order_create(
            link,
            bill_ids=bill_ids,
            pay_ahead_months=months,
            channel=channel,
            scene=paying.scene_for(channel, user_agent),
            client_ip=client_ip(request),
            # The platform sends the owner back to the order page (it polls until paid).
            return_url=request.build_absolute_uri(reverse("owner:orders", args=[token])),
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return _back(token, "#pay-ahead" if ahead else "#pay")
    return redirect("owner:order", token, order.out_trade_no)


@require_GET
@_owner_view()
def wechat_back(request, link: OwnerLink, token: str):
    """Where WeChat sends the payer back from the OAuth step (``code`` and our ``state``): the state
    is checked against this link and session, the code exchanged for the openid, and the JSAPI order
    made for the choice the state stands for."""
    try:
        choice = wechat_state.state_check(request.session, link, request.GET.get("state", ""))
        openid = wechat_oauth.openid_for(request.GET.get("code", ""))
        order = paying.order_create(
            link,
            bill_ids=[int(i) for i in choice.get("bills", [])],
            pay_ahead_months=choice.get("ahead", 0),
            channel="wechat",
            scene="jsapi",
            openid=openid,
            client_ip=client_ip(request),
        )
    except ChannelError as exc:
        messages.error(request, str(exc))
        return _back(token, "#pay")
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return _back(token, "#pay")
    return redirect("owner:order", token, order.out_trade_no)


@require_GET
@_owner_view()
def orders(request, link: OwnerLink, token: str):
    """Where the platform sends the owner back: the household's latest order."""
    latest = paying.latest_order_no(link)
    if not latest:
        return _back(token)
    return redirect("owner:order", token, latest)


@require_GET
@_owner_view()
def order(request, link: OwnerLink, token: str, out_trade_no: str):
    found = paying.order_of(link, out_trade_no)
    if found is None:
        raise Http404("没有这笔订单")
    params = found.pay_params or {}
    jsapi = params.get("jsapi") if found.scene == "jsapi" else None
    go = (
        ""
        if jsapi
        else params.get("pay_url") or params.get("h5_url") or params.get("pay_page") or ""
    )
    code_url = params.get("code_url") or ""
    # The local fake stands in for WeChat's built-in JS bridge with a script of its own.
    bridge = wechat_oauth.fake_base_url() if jsapi and found.status == "open" else ""
    response = render(
        request,
        "owner/order.html",
        {
            "token": token,
            "order": found,
            "go": go,
            "jsapi": jsapi,
            "bridge": f"{bridge}/jsbridge.js" if bridge else "",
            "qr": qr_svg(code_url) if code_url and not go else "",
            "verified": is_verified(request, link),
            "payment_id": getattr(found, "payment_id", None),
        },
    )
    if bridge:
        response._csp_update = {"script-src": [bridge], "connect-src": [bridge]}
    return response


@require_GET
@_owner_view(verified=True)
def receipt(request, link: OwnerLink, token: str, payment_id: int):
    payment = selectors.payment_of(link, payment_id)
    if payment is None:
        raise Http404("没有这笔缴费")
    pdf = receipt_pdf(receipt_data(payment))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{payment.receipt_no}.pdf"'
    return response


@_owner_view(verified=True)
def invoice(request, link: OwnerLink, token: str, payment_id: int):
    payment = selectors.payment_of(link, payment_id)
    if payment is None:
        raise Http404("没有这笔缴费")
    error, done = None, None
    if request.method == "POST":
        try:
            done = services.invoice_request_create(
                link=link,
                payment=payment,
                title=request.POST.get("title", ""),
                tax_number=request.POST.get("tax_number", ""),
                email=request.POST.get("email", ""),
            )
        except ValidationFailed as exc:
            error = exc
    return render(
        request,
        "owner/invoice.html",
        {"token": token, "payment": payment, "error": error, "done": done, "form": request.POST},
    )


@require_POST
@_owner_view(verified=True)
def ticket(request, link: OwnerLink, token: str):
    try:
        services.ticket_open(
            link=link,
            kind=request.POST.get("kind", ""),
            description=request.POST.get("description", ""),
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已提交，物业服务中心会尽快与您联系")
    return _back(token, "#ticket")


# --- staff ---------------------------------------------------------------------------------------


def _room_in_scope(request, room_id: int) -> Room:
    room = Room.objects.filter(pk=room_id, project_id__in=project_ids_for(request.user)).first()
    if room is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    return room


@login_required
@require_GET
def household_panel(request, room_id: int):
    """业主缴费链接 on the household page (loaded by htmx): the current payer's link, to hand out."""
    room = _room_in_scope(request, room_id)
    account = account_of_room(room)
    link = links.link_for(account) if account is not None else None
    return render(
        request,
        "owner/_household_panel.html",
        {
            "room": room,
            "link": link,
            "url": links.url_for(link) if link else "",
            "days": links.link_days(),
            "can_revoke": role_in(request.user, room.project_id) in OWNER_LINK_REVOKER_ROLES,
            "revoked": OwnerLink.objects.filter(account=account, revoked_at__isnull=False).count()
            if account
            else 0,
        },
    )


@login_required
@require_POST
def revoke(request, link_id: int):
    link = OwnerLink.objects.filter(
        pk=link_id, project_id__in=project_ids_for(request.user)
    ).first()
    if link is None:
        raise Http404("链接不存在或不在您的项目范围内")
    try:
        services.link_revoke(user=request.user, link=link, reason=request.POST.get("reason", ""))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已停用该户原缴费链接，已生成新链接")
    return redirect("registry:household", link.account.room_id)


@login_required
def invoices(request):
    """业主开票申请 for finance: what owners asked for on the owner page."""
    project = request.project
    if project is None:
        raise Http404("请先选择项目")
    access_role(request.user, project.pk, OWNER_INVOICE_LIST_ROLES, "查看业主开票申请")
    if request.method == "POST":
        row = OwnerInvoiceRequest.objects.filter(
            pk=request.POST.get("request") or 0, project=project
        ).first()
        if row is None:
            raise Http404("没有这条申请")
        try:
            services.invoice_request_mark_issued(user=request.user, request=row)
        except ValidationFailed as exc:
            messages.error(request, exc.message)
        return redirect("owner:invoices")
    status = request.GET.get("status", InvoiceStatus.REQUESTED)
    if status not in InvoiceStatus.values:
        status = ""
    rows = selectors.invoice_requests([project.pk], status).order_by("-created_at", "-id")
    return render(
        request,
        "owner/invoices.html",
        {
            "page": Paginator(rows, 100).get_page(request.GET.get("page")),
            "status": status,
            "statuses": InvoiceStatus.choices,
            "can_mark": role_in(request.user, project) in INVOICE_ISSUER_ROLES,
        },
    )
