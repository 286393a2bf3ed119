from django.urls import path

from wuye.payments import views

app_name = "payments"

urlpatterns = [
    path("notify/<str:channel>/", views.notify, name="notify"),
    path("", views.orders, name="orders"),
    path("orders/<int:order_id>/", views.order_page, name="order"),
    path("orders/<int:order_id>/refresh/", views.order_refresh, name="order_refresh"),
    path("orders/<int:order_id>/refund/", views.order_refund, name="order_refund"),
    path("accounts/<int:account_id>/micropay/", views.micropay, name="micropay"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/run/", views.reconciliation_run, name="reconciliation_run"),
    path("reconciliation.xlsx", views.reconciliation_export, name="reconciliation_export"),
    path(
        "reconciliation/lines/<int:line_id>/post/",
        views.reconciliation_line_post,
        name="reconciliation_line_post",
    ),
]
