"""factory_boy factories for the core organisation; apps add their own next to their tests."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from minsheng.core.models import Department, Division, Hall, Role, User, Window

PASSWORD = "Minsheng-Test-2026"


class DivisionFactory(DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"9{n:05d}")
    name = factory.Sequence(lambda n: f"测试镇{n}")
    level = Division.Level.TOWN


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"测试局{n}")
    kind = Department.Kind.COUNTY


class HallFactory(DjangoModelFactory):
    class Meta:
        model = Hall

    code = factory.Sequence(lambda n: f"H{n}")
    name = factory.Sequence(lambda n: f"{n}号厅")


class WindowFactory(DjangoModelFactory):
    class Meta:
        model = Window

    hall = factory.SubFactory(HallFactory)
    number = factory.Sequence(lambda n: f"{n:02d}")
    name = factory.Sequence(lambda n: f"综合窗口{n}")
    department = factory.SubFactory(DepartmentFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"张三{n}")
    role = Role.HANDLER
    department = factory.LazyAttribute(
        lambda o: (
            DepartmentFactory()
            if o.role in {Role.HANDLER, Role.DEPT_HEAD, Role.WINDOW_STAFF}
            else None
        )
    )
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(
        cls, instance: User, create: bool, results: dict | None = None
    ) -> None:
        if create:
            instance.save()
