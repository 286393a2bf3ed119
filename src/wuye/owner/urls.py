from django.urls import path

from wuye.owner import views

app_name = "owner"

# Mounted at /o/: the owner's pages under /o/<signed link>/, staff pages under /o/staff/.
owner_patterns = [
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/code/", views.code_send, name="code"),
    path("<str:token>/verify/", views.verify, name="verify"),
    path("<str:token>/leave/", views.leave, name="leave"),
    path("<str:token>/pay/", views.pay, name="pay"),
    path("<str:token>/wechat/", views.wechat_back, name="wechat_back"),
    path("<str:token>/orders/", views.orders, name="orders"),
    path("<str:token>/orders/<str:out_trade_no>/", views.order, name="order"),
    path("<str:token>/receipts/<int:payment_id>/", views.receipt, name="receipt"),
    path("<str:token>/invoice/<int:payment_id>/", views.invoice, name="invoice"),
    path("<str:token>/ticket/", views.ticket, name="ticket"),
]

staff_patterns = [
    path("staff/households/<int:room_id>/", views.household_panel, name="household"),
    path("staff/links/<int:link_id>/revoke/", views.revoke, name="revoke"),
    path("staff/invoices/", views.invoices, name="invoices"),
]

urlpatterns = staff_patterns + owner_patterns
