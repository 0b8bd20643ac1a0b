"""Request and response schemas shared by the API's routers."""

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict

from minsheng.core.masking import mask_mobile
from minsheng.core.models import Department, Division, User


class ErrorBody(Schema):
    code: str = Field(description="稳定的错误代码，如 not_found、invalid")
    message: str = Field(description="给人看的说明，使用请求者的界面语言")
    fields: dict[str, list[str]] = Field(description="输入有误的字段及其提示；__all__ 指整体")


class ErrorOut(Schema):
    error: ErrorBody


class DepartmentRef(Schema):
    id: int
    name: str


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    role_display: str
    department: DepartmentRef | None
    window_id: int | None
    actions: list[str] = Field(description="该用户的角色可执行的操作（对象另受部门范围限制）")


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    kind: Department.Kind
    division_id: int | None
    parent_id: int | None
    phone: str
    active: bool


class DivisionOut(Schema):
    id: int
    code: str
    name: str
    level: Division.Level
    parent_id: int | None
    active: bool


class HallOut(Schema):
    id: int
    code: str
    name: str
    building: str
    floor: str
    opening_hours: str
    phone: str


class WindowOut(Schema):
    id: int
    hall_id: int
    number: str
    name: str
    department: DepartmentRef | None
    active: bool


class StaffOut(Schema):
    """A staff member; the mobile number is always masked here (``POST .../mobile``
    shows it in full, and leaves a trace in the audit trail)."""

    id: int
    username: str
    name: str
    role: str
    role_display: str
    department: DepartmentRef | None
    window_id: int | None
    staff_no: str
    mobile: str = Field(description="已脱敏，如 138****1234")
    is_active: bool

    @staticmethod
    def resolve_role_display(obj: User) -> str:
        return obj.get_role_display()

    @staticmethod
    def resolve_mobile(obj: User) -> str:
        return mask_mobile(obj.mobile)


class StaffMobileOut(Schema):
    id: int
    mobile: str


class StaffPatch(Schema):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # May be left out, but not sent as null: hence str with a None default, not str | None.
    name: str = Field(None, min_length=1, max_length=32, description="姓名")  # type: ignore[assignment]
    mobile: str = Field(None, max_length=11, description="11位手机号码；空字符串表示清除")  # type: ignore[assignment]


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None
