"""The REST API under /api/v1/: one NinjaAPI mounting each domain's router.

Authentication is set here for the whole API, so every endpoint, in every router added
later, is closed unless it says ``auth=None``.
"""

from minsheng.api import appeals, core, evaluation
from minsheng.api import catalog as catalog_api
from minsheng.api import guide as guide_api
from minsheng.api import projects as projects_api
from minsheng.api import venues as venues_api
from minsheng.api.auth import SessionAuth, TokenAuth, TokenRateThrottle
from minsheng.api.base import MinshengAPI

api = MinshengAPI(
    title="民生 Minsheng API",
    version="1",
    description=(
        "认证：其他系统用 `Authorization: Bearer <令牌>`"
        "（令牌由管理员用 `minsheng token create` 创建）；"
        "本站页面用登录会话，非只读请求须带 X-CSRFToken。"
        '错误统一为 `{"error": {"code", "message", "fields"}}`。'
        "列表分页：`?page=&page_size=`，返回 `{count, next, previous, results}`。"
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    throttle=[TokenRateThrottle()],
)
api.add_router("", core.router)
api.add_router("", appeals.router)
api.add_router("", catalog_api.router)
api.add_router("", evaluation.router)
api.add_router("", guide_api.router)
api.add_router("", projects_api.router)
api.add_router("", venues_api.router)
