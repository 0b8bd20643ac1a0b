from ninja import NinjaAPI

api = NinjaAPI(title="Minsheng API", version="1", urls_namespace="api")
