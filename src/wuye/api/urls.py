from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI
from ninja.security import django_auth

from wuye.core.errors import NotInScope, WuyeError

api = NinjaAPI(
    title="wuye API",
    version="1",
    description="物业收费与催缴系统接口。所有接口只返回当前用户所属项目的数据。",
    auth=django_auth,
    urls_namespace="api",
    # The docs and the OpenAPI schema describe every endpoint and field: for logged-in users only.
    docs_decorator=login_required,
)


@api.exception_handler(NotInScope)
def _not_in_scope(request, exc: NotInScope):
    return api.create_response(request, exc.as_dict(), status=404)


@api.exception_handler(WuyeError)
def _wuye_error(request, exc: WuyeError):
    return api.create_response(request, exc.as_dict(), status=400)


api.add_router("/registry/", "wuye.registry.api.router")
api.add_router("/ledger/", "wuye.ledger.api.router")
# The owner's own endpoints: authenticated by the household's signed link, not a staff login.
api.add_router("/owner/", "wuye.owner.api.router")
