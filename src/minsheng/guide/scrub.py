"""Remove personal data from a question before it is logged.

Mobile numbers, ID card numbers, landlines, bank-card-like digit runs and names said with
the usual cues (我叫…, 姓名…, 张先生, 老赵) are replaced with placeholders. The guide
answers from the full text; only the log is scrubbed.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_ID = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")
_LONG_DIGITS = re.compile(r"(?<!\d)\d{9,}(?!\d)")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_NAMED = re.compile(
    r"(我叫|俺叫|名叫|名字叫|名字是|姓名是|姓名[:：]?|本人是|我是|俺是|联系人[:：]?)"
    r"([" + _SURNAMES + r"][\u4e00-\u9fff]{1,2})(?=[，,。.！!？?、；;\s]|$)"
)
_TITLED = re.compile(
    r"([" + _SURNAMES + r"])[\u4e00-\u9fff]?(先生|女士|大爷|大娘|阿姨|师傅|老师|大哥|大姐)"
)
_OLD = re.compile(
    r"(?<![\u4e00-\u9fff]{2})(老|小)([" + _SURNAMES + r"])(?=[，,。.！!？?、；;\s]|$)"
)
_OLD_AFTER_ROLE = re.compile(r"(大户|村民|户主|社员)(老|小)[" + _SURNAMES + r"]")


def scrub(text: str) -> str:
    """The text with personal data replaced by placeholders like ［手机号］."""
    text = _ID.sub(_("［身份证号］"), text)
    text = _MOBILE.sub(_("［手机号］"), text)
    text = _LANDLINE.sub(_("［电话］"), text)
    text = _LONG_DIGITS.sub(_("［号码］"), text)
    text = _NAMED.sub(lambda m: m.group(1) + _("［姓名］"), text)
    text = _TITLED.sub(_("［姓名］"), text)
    text = _OLD_AFTER_ROLE.sub(lambda m: m.group(1) + _("［姓名］"), text)
    text = _OLD.sub(_("［姓名］"), text)
    return text
