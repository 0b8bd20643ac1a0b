"""The demo relief station: a year of donations and applications at every step, the paid
ones through the same actions as the staff page."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from minsheng.appeals import attachments
from minsheng.core import demo, idnumber
from minsheng.core.demo import GIVEN, SURNAMES
from minsheng.core.models import Department, Division
from minsheng.relief import actions
from minsheng.relief.models import Application, Document, Station

DONORS = [
    "县妇联",
    "示范县爱心商会",
    "城关镇个体工商户协会",
    "县第一中学教职工",
    "王先生",
    "李女士",
]
SITUATIONS = [
    "丈夫因病去世，独自抚养两个孩子，无固定收入，孩子学费难以承担。",
    "父母外出务工，孩子随祖母生活，祖母患病住院，家中无人照看。",
    "本人因车祸致残，丧失劳动能力，女儿今年考上高中，缺少学费。",
    "孩子患白血病正在治疗，医保报销后仍有较大缺口，家庭负债累累。",
]


def _scan() -> attachments.CleanFile:
    """A blank "scanned certificate" (a page with a stamp and lines where text would be)."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (620, 440), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((10, 10, 610, 430), outline="black", width=3)
    for y in range(80, 330, 36):
        draw.line((60, y, 560, y), fill="#999999", width=6)
    draw.ellipse((420, 300, 540, 420), outline="#c00000", width=5)
    data = io.BytesIO()
    page.save(data, format="PNG")
    return attachments.clean(SimpleUploadedFile("证明材料.png", data.getvalue()))


@demo.register("relief", "妇女儿童公益站：一年的捐赠、救助申请和发放", order=520)
def build(ctx: demo.DemoContext) -> None:
    if not settings.DEMO_COMMUNITY:
        ctx.out("  DEMO_COMMUNITY 已关闭，跳过")
        return
    if Station.objects.exists():
        ctx.out("  已有公益站，不再生成")
        return
    station = Station.objects.create(
        code="gyz-01", name="示范县妇女儿童公益站", department=Department.objects.get(code="mzj")
    )
    today = timezone.localdate()
    for month in range(12, 0, -1):
        day = today - dt.timedelta(days=30 * month)
        for _ in range(ctx.rng.randint(2, 5)):
            actions.donate(
                station.pk,
                donor=ctx.rng.choice(DONORS),
                amount=Decimal(ctx.rng.choice([500, 1000, 2000, 5000, 10000])),
                received_on=day,
                anonymous=ctx.rng.random() < 0.3,
                by=None,
            )
    villages = list(Division.objects.filter(level=Division.Level.VILLAGE).order_by("code")[:30])
    scan = _scan()
    for n in range(24):
        born = dt.date(1985, 1, 1) + dt.timedelta(days=ctx.rng.randrange(0, 9000))
        first17 = f"990102{born:%Y%m%d}{n:03d}"
        application = actions.apply(
            station.pk,
            kind=ctx.rng.choice(list(Application.Kind.values)),
            applicant=ctx.rng.choice(SURNAMES) + ctx.rng.choice(GIVEN),
            id_number=first17 + idnumber.check_char(first17),
            village_id=ctx.rng.choice(villages).pk,
            situation=ctx.rng.choice(SITUATIONS),
            requested=Decimal(ctx.rng.choice([1000, 2000, 3000])),
            by=None,
            documents=[(Document.Kind.HARDSHIP, scan)] if n < 22 else [],
        )
        # The newest few stay at earlier steps, so every step shows on the staff page.
        if n < 20:
            actions.verify_village(application.pk, by=None)
        if n < 17:
            actions.verify_town(application.pk, by=None)
        if n < 14:
            if n % 7 == 6:
                actions.decide(
                    application.pk, approve=False, note="经核实家庭收入高于标准", by=None
                )
            else:
                actions.decide(application.pk, approve=True, amount=application.requested, by=None)
                if n < 11:
                    actions.disburse(application.pk, by=None)
    ctx.progress("公益站", 1, 1)
