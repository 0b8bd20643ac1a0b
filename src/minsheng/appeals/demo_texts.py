"""What the demo county's citizens write and its departments answer (see ``appeals.demo``).

The category tree is a typical county 12345 catalogue; each category names the department
that answers for it (``None``: the town government where the problem is, 属地管理). Problems
are templates: ``{place}`` is the village or community, ``{spot}``, ``{since}`` and ``{ask}``
vary the wording, ``{dept}`` in a reply is the answering department and ``{date}`` the day
of the reply. All of it is invented; any likeness to a real case is an accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from minsheng.appeals.models import AppealType

T = AppealType


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    department: str | None  # department code; None: the town government (属地)
    co: tuple[str, ...] = ()


# (top level, its children); a child without a department of its own inherits the top's.
CATEGORIES: list[tuple[CategorySpec, list[CategorySpec]]] = [
    (
        CategorySpec("cxjs", "城乡建设", "zjj"),
        [
            CategorySpec("cxjs-wy", "物业管理", "zjj"),
            CategorySpec("cxjs-gs", "供水供气", "zjj"),
            CategorySpec("cxjs-sz", "市政设施", "zjj"),
            CategorySpec("cxjs-wj", "违章建筑", "zjj", ("zrzyj",)),
            CategorySpec("cxjs-gj", "老旧小区改造", "zjj"),
            CategorySpec("cxjs-fw", "商品房交付", "zjj"),
        ],
    ),
    (
        CategorySpec("hjbh", "环境保护", "sthj"),
        [
            CategorySpec("hjbh-dq", "大气污染", "sthj"),
            CategorySpec("hjbh-zs", "噪声扰民", "sthj"),
            CategorySpec("hjbh-sw", "水体污染", "sthj"),
            CategorySpec("hjbh-yy", "餐饮油烟", "sthj", ("scjgj",)),
            CategorySpec("hjbh-lj", "垃圾清运", "zjj"),
        ],
    ),
    (
        CategorySpec("jtys", "交通运输", "jtysj"),
        [
            CategorySpec("jtys-dl", "道路维修", "jtysj"),
            CategorySpec("jtys-gj", "公交线路", "jtysj"),
            CategorySpec("jtys-cz", "出租车和网约车", "jtysj"),
            CategorySpec("jtys-tc", "违停和拥堵", "gaj"),
        ],
    ),
    (
        CategorySpec("ldsb", "劳动和社会保障", "rsj"),
        [
            CategorySpec("ldsb-gz", "拖欠工资", "rsj"),
            CategorySpec("ldsb-sb", "社保缴纳", "rsj"),
            CategorySpec("ldsb-jy", "就业创业", "rsj"),
            CategorySpec("ldsb-yb", "医保报销", "ybj"),
            CategorySpec("ldsb-gjj", "住房公积金", "gjj"),
        ],
    ),
    (
        CategorySpec("jywt", "教育文体", "jyj"),
        [
            CategorySpec("jywt-rx", "入学招生", "jyj"),
            CategorySpec("jywt-px", "校外培训", "jyj"),
            CategorySpec("jywt-aq", "校园周边安全", "jyj", ("gaj",)),
            CategorySpec("jywt-ws", "文体设施", None),
        ],
    ),
    (
        CategorySpec("wsjs", "卫生计生", "wjw"),
        [
            CategorySpec("wsjs-yl", "医疗服务", "wjw"),
            CategorySpec("wsjs-ym", "疫苗接种", "wjw"),
            CategorySpec("wsjs-gw", "公共卫生", "wjw"),
        ],
    ),
    (
        CategorySpec("smly", "商贸旅游", "scjgj"),
        [
            CategorySpec("smly-xf", "消费维权", "scjgj"),
            CategorySpec("smly-jg", "价格收费", "scjgj"),
            CategorySpec("smly-ly", "旅游服务", "scjgj"),
        ],
    ),
    (
        CategorySpec("nync", "农业农村", None),
        [
            CategorySpec("nync-hj", "农村人居环境", None),
            CategorySpec("nync-bt", "惠农补贴", None),
            CategorySpec("nync-cb", "土地承包", None),
            CategorySpec("nync-zjd", "宅基地", "zrzyj"),
        ],
    ),
    (
        CategorySpec("mz", "民政", "mzj"),
        [
            CategorySpec("mz-db", "低保救助", "mzj"),
            CategorySpec("mz-yl", "养老服务", "mzj"),
            CategorySpec("mz-cj", "残疾人帮扶", "mzj"),
            CategorySpec("mz-hy", "婚姻登记", "mzj"),
        ],
    ),
    (
        CategorySpec("gazf", "公安政法", "gaj"),
        [
            CategorySpec("gazf-hj", "户籍证件", "gaj"),
            CategorySpec("gazf-za", "治安管理", "gaj"),
            CategorySpec("gazf-jf", "邻里纠纷", None),
        ],
    ),
    (
        CategorySpec("scjg", "市场监管", "scjgj"),
        [
            CategorySpec("scjg-sp", "食品安全", "scjgj"),
            CategorySpec("scjg-yp", "药品安全", "scjgj"),
            CategorySpec("scjg-tz", "电梯等特种设备", "scjgj", ("zjj",)),
        ],
    ),
    (
        CategorySpec("zrzy", "自然资源", "zrzyj"),
        [
            CategorySpec("zrzy-bdc", "不动产登记", "zrzyj"),
            CategorySpec("zrzy-zd", "违法占地", "zrzyj"),
            CategorySpec("zrzy-zs", "征地拆迁", "zrzyj"),
        ],
    ),
    (
        CategorySpec("zh", "综合", None),
        [
            CategorySpec("zh-by", "表扬感谢", None),
            CategorySpec("zh-jy", "意见建议", None),
        ],
    ),
]


@dataclass(frozen=True)
class Problem:
    category: str  # a child category's code
    title: str
    body: str
    reply: str
    appeal_type: str = T.HELP
    weight: float = 1.0
    urgent_share: float = 0.03
    # Long-running problems a department cannot solve at once (candidates for 转实事项目).
    structural: bool = False


PROBLEMS: list[Problem] = [
    Problem(
        "cxjs-sz",
        "{place}{spot}路灯不亮",
        "{place}{spot}的路灯坏了{since}，晚上黑灯瞎火，老人孩子出门很不安全，{ask}",
        "经现场核实，{place}{spot}路灯因线路老化损坏。{dept}已于{date}安排维修人员更换灯具和"
        "线路，现已恢复照明。感谢您对城市建设的关心。",
        weight=3.0,
    ),
    Problem(
        "cxjs-sz",
        "{place}{spot}井盖缺失存在安全隐患",
        "{place}{spot}有一个井盖破损缺失{since}了，只用树枝挡着，晚上很容易掉下去，{ask}",
        "收到诉求后，{dept}当天安排人员设置警示围挡，并于{date}更换了新井盖，隐患已消除。",
        T.REPORT,
        weight=1.2,
        urgent_share=0.25,
    ),
    Problem(
        "cxjs-gs",
        "{place}{estate}频繁停水",
        "{place}{estate}这{since}经常停水，也没有提前通知，家里老人做饭洗漱都成问题，{ask}",
        "经查，停水系{place}供水管网改造施工所致。{dept}已责成供水公司于{date}完成管网切换，"
        "供水已恢复正常，今后计划停水将提前24小时在小区张贴通知。",
        T.COMPLAINT,
        weight=2.2,
        urgent_share=0.15,
    ),
    Problem(
        "cxjs-gs",
        "{place}{estate}冬季暖气不热",
        "我家住在{place}{estate}，入冬以来暖气温度一直只有十四五度，家里有老人和小孩，"
        "多次找供热公司都说在排查，{ask}",
        "{dept}会同供热公司于{date}入户检测，发现楼内管道存在气堵，已完成排气和阀门调节，"
        "室温已达到18℃以上，请您继续关注，如有问题可拨打供热服务电话。",
        T.COMPLAINT,
        weight=1.8,
    ),
    Problem(
        "cxjs-wy",
        "{place}{estate}物业不作为",
        "{place}{estate}物业公司收了物业费却不干事，{issue}，业主多次反映都没有结果，{ask}",
        "{dept}已约谈{place}{estate}物业服务企业，责令其限期整改。经{date}回访，{issue_fixed}，"
        "我局将把该企业纳入物业服务质量考评重点关注名单。",
        T.COMPLAINT,
        weight=2.5,
    ),
    Problem(
        "cxjs-wj",
        "举报{place}有人私搭乱建",
        "{place}{spot}有住户正在违规加盖房屋，已经盖到二层了，占用公共通道，{ask}",
        "经{dept}会同县自然资源局现场核查，该建筑未取得规划许可，属违法建设。已下达限期拆除"
        "通知书，当事人已于{date}自行拆除，公共通道已恢复。",
        T.REPORT,
        weight=1.3,
    ),
    Problem(
        "cxjs-gj",
        "{place}{estate}老旧小区改造问题",
        "{place}{estate}是上世纪九十年代的老小区，楼道墙皮脱落、雨水管破损、没有停车位，"
        "听说有老旧小区改造政策，{ask}",
        "{place}{estate}已列入县老旧小区改造储备项目库。{dept}已于{date}组织设计单位入户"
        "征求意见，具体改造内容和时间将在小区公示，请您关注。",
        T.SUGGESTION,
        weight=1.2,
        structural=True,
    ),
    Problem(
        "cxjs-fw",
        "{place}新建楼盘逾期交房",
        "我在{place}附近的楼盘买了房，合同约定的交房日期已经过了{since}，开发商一直拖着不交房，"
        "也不给说法，{ask}",
        "{dept}已约谈开发企业，该项目因配套工程延误未能按期交付，企业承诺于本月底前完成竣工"
        "验收并按合同支付逾期违约金。我局将跟踪督促，{date}已将进展告知购房群众代表。",
        T.COMPLAINT,
        weight=1.0,
    ),
    Problem(
        "hjbh-dq",
        "{place}附近工厂排放刺鼻气味",
        "{place}{spot}附近的工厂经常在夜里排放废气，气味刺鼻，开窗都不行，{ask}",
        "{dept}执法人员于{date}夜间突击检查，该企业废气处理设施未正常运行，已立案查处，责令"
        "立即整改并安装在线监测设备。我们将持续跟踪监测。",
        T.REPORT,
        weight=1.5,
    ),
    Problem(
        "hjbh-zs",
        "{place}{spot}夜间施工噪音扰民",
        "{place}{spot}的工地每天晚上十一点以后还在施工，机器声音特别大，孩子根本睡不着，{ask}",
        "经核查，该工地未办理夜间施工许可。{dept}已于{date}责令其停止夜间作业，并将在夜间"
        "加强巡查，如再发现违规施工将依法处罚。",
        T.COMPLAINT,
        weight=2.0,
    ),
    Problem(
        "hjbh-zs",
        "{place}广场舞音响声音太大",
        "{place}{spot}每天晚上有人跳广场舞，音响开得很大，一直到九点多，影响休息，{ask}",
        "{dept}会同{place}于{date}与广场舞队负责人沟通，双方约定音量控制在60分贝以下、"
        "晚上八点半前结束，并在现场张贴了文明健身提示。",
        T.COMPLAINT,
        weight=1.2,
    ),
    Problem(
        "hjbh-sw",
        "{place}河道有污水排放",
        "{place}旁边的河道最近水发黑发臭，还有死鱼，怀疑上游有人偷排污水，{ask}",
        "{dept}于{date}沿河排查，发现一处养殖场雨污管道混接，已责令封堵并处罚款，同时对"
        "河道水质进行了监测，指标正在恢复。",
        T.REPORT,
        weight=1.0,
    ),
    Problem(
        "hjbh-yy",
        "{place}{spot}烧烤店油烟扰民",
        "{place}{spot}楼下新开的烧烤店没有安装油烟净化设备，油烟直接往楼上冒，{ask}",
        "{dept}与县市场监管局联合检查，该店已于{date}安装油烟净化器并改造排烟管道，"
        "经检测油烟排放达标。",
        T.COMPLAINT,
        weight=1.4,
    ),
    Problem(
        "hjbh-lj",
        "{place}垃圾清运不及时",
        "{place}{spot}的垃圾桶满了好几天都没人清运，天热臭气熏天，招苍蝇，{ask}",
        "{dept}已责成环卫公司增加{place}的清运频次，由每天一次调整为每天两次，{date}已完成"
        "积存垃圾清理和垃圾桶消杀。",
        weight=2.0,
    ),
    Problem(
        "jtys-dl",
        "{place}{road}路面坑洼不平",
        "{place}{road}路面坑坑洼洼，下雨天积水很深，电动车经过经常摔倒，{ask}",
        "{dept}已于{date}对{road}破损路面进行修补，共修补坑槽20余处。该路段整体改造已列入"
        "明年农村公路提升计划。",
        weight=2.2,
    ),
    Problem(
        "jtys-dl",
        "{place}{road}需要整体拓宽改造",
        "{place}{road}只有四米多宽，大车小车挤在一起，上下学时间经常堵，去年还出过事故，{ask}",
        "{road}拓宽改造涉及征地和资金，{dept}已完成初步测算并上报，{date}已将该路段纳入"
        "县级交通项目储备库，待资金落实后实施。",
        T.SUGGESTION,
        weight=0.8,
        structural=True,
    ),
    Problem(
        "jtys-gj",
        "建议增开到{place}的公交线路",
        "{place}离县城十几公里，现在只有早晚两班车，老人看病、学生上学很不方便，{ask}",
        "{dept}已会同公交公司开展客流调查，计划自下月起将途经{place}的班次由每天2班增加到"
        "每天6班，{date}已在站点张贴新时刻表。",
        T.SUGGESTION,
        weight=1.2,
    ),
    Problem(
        "jtys-cz",
        "出租车司机拒载绕路",
        "昨天晚上在{place}{spot}打车，司机嫌路近拒载，后来另一辆车又故意绕路多收钱，{ask}",
        "{dept}已调取车辆行驶记录，核实该驾驶员存在绕路行为，已依法处罚并责令退还多收车费，"
        "已于{date}电话告知您处理结果。",
        T.COMPLAINT,
        weight=0.9,
    ),
    Problem(
        "jtys-tc",
        "{place}{spot}车辆乱停堵塞通道",
        "{place}{spot}每天都有车辆乱停乱放，把消防通道都堵了，救护车都进不来，{ask}",
        "{dept}交警大队已于{date}在{spot}开展集中整治，施划禁停标线并安装违停抓拍设备，"
        "今后将加强巡查。",
        T.COMPLAINT,
        weight=1.6,
    ),
    Problem(
        "ldsb-gz",
        "{place}附近工地拖欠农民工工资",
        "我们{count}个人在{place}附近的工地干了{since}的活，包工头一直拖着不给工资，快过年了，"
        "家里等着用钱，{ask}",
        "{dept}劳动保障监察大队已于{date}约谈施工总承包企业，责令其从工资保证金中先行垫付，"
        "所欠工资已全部发放到位。",
        T.COMPLAINT,
        weight=2.4,
        urgent_share=0.12,
    ),
    Problem(
        "ldsb-sb",
        "单位未给缴纳社保",
        "我在{place}一家企业上班快两年了，单位一直不给交社保，问了就说试用期，{ask}",
        "{dept}已对该企业进行调查，责令其为您补缴参保期间的社会保险费，企业已于{date}办理"
        "补缴手续，您可通过社保APP查询缴费记录。",
        T.COMPLAINT,
        weight=1.4,
    ),
    Problem(
        "ldsb-sb",
        "灵活就业人员养老保险怎么交",
        "我是{place}的个体户，想咨询一下灵活就业人员养老保险怎么缴费，每年交多少，在哪里办，{ask}",
        "您好，灵活就业人员可在县政务服务中心社保窗口或社保APP办理参保，缴费基数可在当地"
        "社平工资60%至300%之间自选。{dept}已于{date}电话为您详细解答。",
        T.CONSULT,
        weight=1.6,
    ),
    Problem(
        "ldsb-jy",
        "咨询创业担保贷款政策",
        "我是退役军人，想在{place}开一个农产品加工的小作坊，想了解创业担保贷款的条件和申请流程，"
        "{ask}",
        "您好，符合条件的退役军人可申请最高30万元的创业担保贷款，财政贴息。{dept}就业服务中心"
        "已于{date}与您联系，指导您准备申请材料。",
        T.CONSULT,
        weight=1.0,
    ),
    Problem(
        "ldsb-yb",
        "异地就医报销比例太低",
        "我母亲在市里住院做了手术，回来报销的时候比例比在县里低很多，备案也办了，{ask}",
        "经核查，您母亲已办理异地就医备案，报销比例按政策执行。因部分药品属于乙类目录需先行"
        "自付一定比例。{dept}已于{date}电话详细解释，并复核了结算单据，无误。",
        T.CONSULT,
        weight=1.2,
    ),
    Problem(
        "ldsb-gjj",
        "公积金提取审批太慢",
        "我上个月就提交了公积金提取申请，说是租房提取，到现在还没有到账，打电话也说在审核，{ask}",
        "经查，您的申请因租赁合同备案信息不全暂缓审核。{dept}已于{date}协助您补充材料，"
        "提取款已到账。",
        T.COMPLAINT,
        weight=0.9,
    ),
    Problem(
        "jywt-rx",
        "孩子入学学区划分咨询",
        "我家住在{place}{estate}，孩子明年上小学，想问一下我们小区划在哪个学校的学区，需要准备"
        "哪些材料，{ask}",
        "您好，{place}{estate}属于县实验小学第二学区。入学需准备户口簿、房产证明等材料，"
        "报名时间为每年7月，详见教育局公众号。{dept}已于{date}电话告知。",
        T.CONSULT,
        weight=1.5,
    ),
    Problem(
        "jywt-px",
        "举报校外培训机构违规收费",
        "{place}{spot}有一家培训机构一次性收了一年的学费，现在说要关门，退费也不给退，{ask}",
        "{dept}已会同县市场监管局于{date}约谈该机构负责人，督促其制定退费方案，目前已为"
        "大部分家长办理退费，剩余部分将在两周内退清。",
        T.REPORT,
        weight=1.0,
    ),
    Problem(
        "jywt-aq",
        "{place}学校门口上下学交通拥堵",
        "{place}小学门口每天上下学时间接送车辆特别多，路口没有人疏导，孩子过马路很危险，{ask}",
        "{dept}已协调县公安局交警大队在上下学高峰时段安排警力护学，并于{date}在学校门口增设"
        "减速带和人行横道。",
        T.SUGGESTION,
        weight=1.1,
    ),
    Problem(
        "jywt-ws",
        "{place}健身器材损坏",
        "{place}{spot}的健身器材好几个都坏了，有的螺丝松了晃得厉害，老人锻炼很危险，{ask}",
        "{dept}已于{date}组织对{place}健身器材进行检修，更换损坏器材3件，并在器材旁张贴了"
        "安全使用提示。",
        weight=1.0,
    ),
    Problem(
        "wsjs-yl",
        "县医院看病排队时间太长",
        "昨天带孩子去县医院儿科看病，从早上八点排到十一点多，只有两个医生，{ask}",
        "{dept}已责成县医院优化儿科门诊排班，高峰时段增加至4名医生，并推行分时段预约，"
        "{date}起已实施。",
        T.COMPLAINT,
        weight=1.2,
    ),
    Problem(
        "wsjs-ym",
        "咨询{place}卫生院疫苗接种时间",
        "孩子到了打疫苗的时间，想问一下{place}卫生院接种门诊每周哪几天开放，需要预约吗，{ask}",
        "您好，{place}卫生院预防接种门诊每周二、四、六上午开放，可通过“健康县域”公众号预约。"
        "{dept}已于{date}电话告知。",
        T.CONSULT,
        weight=0.9,
    ),
    Problem(
        "wsjs-gw",
        "{place}诊所无证行医",
        "{place}{spot}有一个小诊所，听说医生没有执业证，还给人输液，{ask}",
        "{dept}卫生监督所于{date}进行检查，该诊所确无《医疗机构执业许可证》，已依法取缔并"
        "没收药品器械。",
        T.REPORT,
        weight=0.7,
    ),
    Problem(
        "smly-xf",
        "在{place}超市买到过期食品",
        "在{place}{spot}的超市买的牛奶回家发现已经过期三天了，找超市只肯退钱，{ask}",
        "{dept}已于{date}对该超市进行检查，下架过期食品12件，依法立案调查，并督促超市按规定"
        "向您赔偿。",
        T.COMPLAINT,
        weight=1.6,
    ),
    Problem(
        "smly-jg",
        "{place}停车场乱收费",
        "{place}{spot}的停车场收费标准没有公示，停两个小时收了二十块，{ask}",
        "{dept}已于{date}对该停车场进行检查，责令其公示收费标准并退还多收费用，已依法予以警告。",
        T.COMPLAINT,
        weight=1.0,
    ),
    Problem(
        "smly-ly",
        "景区门票和宣传不符",
        "国庆带家人去景区游玩，宣传说是一票通，进去后好几个项目都要另外收费，{ask}",
        "{dept}已约谈景区经营单位，责令其规范宣传用语并公示收费项目，已于{date}督促景区"
        "向您退还差价。",
        T.COMPLAINT,
        weight=0.6,
    ),
    Problem(
        "nync-hj",
        "{place}村内道路两侧垃圾堆积",
        "{place}{spot}两边堆了很多建筑垃圾和生活垃圾，{since}了没人管，{ask}",
        "{dept}已于{date}组织{place}村两委清理积存垃圾约15吨，并将该路段纳入村保洁员日常保洁范围。",
        weight=2.0,
    ),
    Problem(
        "nync-bt",
        "耕地地力保护补贴没有到账",
        "我是{place}村民，家里有八亩地，今年的耕地地力保护补贴别人都到账了，我家还没有，{ask}",
        "经核查，您家的补贴因银行卡号变更未及时更新导致发放失败。{dept}已于{date}协助更新"
        "信息，补贴已补发到账。",
        weight=1.4,
    ),
    Problem(
        "nync-cb",
        "{place}土地流转租金被拖欠",
        "我们{place}几户人家的土地流转给合作社种植，今年的租金到现在还没有给，{ask}",
        "{dept}已组织{place}村委会与合作社负责人协商，合作社已于{date}支付全部租金。",
        T.COMPLAINT,
        weight=1.0,
    ),
    Problem(
        "nync-zjd",
        "{place}宅基地审批咨询",
        "我是{place}村民，儿子结婚想在自家宅基地上翻建房屋，想咨询一下需要办什么手续，{ask}",
        "您好，农村村民翻建住宅需向村委会提出申请，经乡镇审核后由{dept}办理规划许可。{date}"
        "已电话告知您具体材料清单。",
        T.CONSULT,
        weight=0.9,
    ),
    Problem(
        "mz-db",
        "家庭困难申请低保",
        "我是{place}居民，丈夫去年因病去世，我一个人带两个孩子，身体也不好，想申请低保，{ask}",
        "{dept}已指导{place}受理您的低保申请，经入户调查和民主评议，您家符合条件，已于{date}"
        "纳入低保，同时为孩子落实了教育资助。",
        weight=1.6,
        urgent_share=0.08,
    ),
    Problem(
        "mz-yl",
        "{place}日间照料中心没有开放",
        "{place}的老年人日间照料中心建好快一年了，一直锁着门，老人们没地方去，{ask}",
        "{dept}已督促{place}引入专业养老机构运营，照料中心已于{date}正式开放，每天提供午餐"
        "和文体活动。",
        T.SUGGESTION,
        weight=1.1,
    ),
    Problem(
        "mz-cj",
        "残疾人两项补贴申请",
        "我家孩子是二级智力残疾，想咨询怎么申请残疾人护理补贴，{ask}",
        "您好，重度残疾人护理补贴可向户籍所在地乡镇提出申请。{dept}已于{date}联系{place}，"
        "为您上门办理申请手续。",
        T.CONSULT,
        weight=0.8,
    ),
    Problem(
        "gazf-hj",
        "身份证补办进度咨询",
        "我上个月在{place}派出所补办身份证，说是二十天可以领，现在还没通知，{ask}",
        "经查，您的身份证已于近日制作完成并送达{place}派出所。{dept}已于{date}电话通知您领取。",
        T.CONSULT,
        weight=1.0,
    ),
    Problem(
        "gazf-za",
        "{place}夜间有人飙车",
        "{place}{road}每天晚上都有人骑摩托车飙车，声音特别大，还很危险，{ask}",
        "{dept}已于{date}在{road}设卡整治，查处非法改装摩托车5辆，将持续开展夜间巡逻。",
        T.REPORT,
        weight=1.1,
    ),
    Problem(
        "gazf-jf",
        "{place}邻居占用公共通道",
        "我家邻居在{place}{spot}堆放杂物，把两家共用的通道都堵了，沟通多次都不听，{ask}",
        "{dept}已于{date}组织{place}调解委员会上门调解，双方达成协议，邻居已清理杂物，"
        "通道恢复畅通。",
        weight=1.4,
    ),
    Problem(
        "scjg-sp",
        "{place}{spot}早餐店卫生条件差",
        "{place}{spot}的一家早餐店后厨很脏，还看到有老鼠，{ask}",
        "{dept}已于{date}对该店进行检查，责令其停业整改，完成后厨清洁消杀和防鼠设施安装，"
        "经复查合格后方可营业。",
        T.REPORT,
        weight=1.4,
    ),
    Problem(
        "scjg-yp",
        "药店销售处方药不要处方",
        "{place}{spot}的药店卖抗生素不需要处方，随便就卖，{ask}",
        "{dept}已于{date}对该药店进行检查，对其违规销售处方药行为立案调查，并开展全县药店"
        "专项检查。",
        T.REPORT,
        weight=0.7,
    ),
    Problem(
        "scjg-tz",
        "{place}{estate}电梯经常故障",
        "{place}{estate}的电梯这{since}坏了好几次，上周还困人了，物业说在等配件，{ask}",
        "{dept}特种设备安全监察人员于{date}对该电梯进行检查，责令维保单位更换故障部件，"
        "电梯已恢复运行，并要求加强日常维保。",
        T.COMPLAINT,
        weight=1.3,
        urgent_share=0.1,
    ),
    Problem(
        "zrzy-bdc",
        "{place}{estate}房产证迟迟办不下来",
        "{place}{estate}交房已经三年了，房产证一直办不下来，开发商说是土地出让金问题，{ask}",
        "{dept}已督促开发企业补缴相关费用，{place}{estate}首次登记已于{date}完成，业主可到"
        "不动产登记窗口申请办理转移登记。",
        T.COMPLAINT,
        weight=1.4,
        structural=True,
    ),
    Problem(
        "zrzy-zd",
        "举报{place}占用耕地建房",
        "{place}{spot}有人在基本农田上建厂房，已经打好地基了，{ask}",
        "{dept}执法人员于{date}现场核查，该行为属违法占用耕地，已下达责令停止违法行为通知书，"
        "并立案查处。",
        T.REPORT,
        weight=1.0,
    ),
    Problem(
        "zrzy-zs",
        "{place}征地补偿标准咨询",
        "{place}要修路征地，我家有两亩地在范围内，想咨询补偿标准是多少，什么时候发放，{ask}",
        "您好，该项目征地补偿按省政府公布的区片综合地价执行，补偿款将在签订协议后三个月内"
        "发放。{dept}已于{date}电话为您详细解释。",
        T.CONSULT,
        weight=0.9,
    ),
    Problem(
        "zh-by",
        "表扬{place}工作人员热心服务",
        "前几天我在{place}办事，工作人员耐心细致，还帮我这个老年人填表，特别感谢，希望表扬。",
        "感谢您对我们工作的肯定！您的表扬已转达{dept}并在单位内通报，我们将继续做好服务。",
        T.PRAISE,
        weight=0.9,
    ),
    Problem(
        "zh-jy",
        "建议{place}增设便民服务点",
        "{place}离镇上比较远，办个社保认证、缴个费都要跑很远，建议在村里设一个便民服务点，{ask}",
        "感谢您的建议。{dept}已于{date}在{place}设立便民服务代办点，可代办社保认证、医保缴费"
        "等12项业务。",
        T.SUGGESTION,
        weight=1.0,
    ),
]

# Appeals the county does not take, with the rule that says where to go instead.
REFUSALS: list[tuple[str, str, str]] = [
    (
        "emergency-122",
        "{place}{road}发生交通事故",
        "刚才在{place}{road}两辆车撞了，有人受伤，现在堵在路上，请赶快派人来。",
    ),
    (
        "emergency-110",
        "{place}有人打架",
        "{place}{spot}有几个人在打架，还拿着棍子，请赶快派人来处理。",
    ),
    (
        "litigation",
        "与开发商的购房合同纠纷",
        "我和开发商因为购房合同违约的事已经向法院起诉了，想请政府督促法院快点判。",
    ),
    (
        "outside-county",
        "反映外地企业拖欠货款",
        "我是{place}的个体户，给邻省一家企业供货，对方拖欠货款二十多万不给，请帮忙追讨。",
    ),
    (
        "petition-route",
        "对行政处罚决定不服",
        "我对县里上个月作出的行政处罚决定不服，认为处罚太重，要求撤销。",
    ),
]

SPOTS = [
    "村口",
    "主干道",
    "菜市场附近",
    "小学门口",
    "东门",
    "幸福路与建设路交叉口",
    "文化广场",
    "老街",
    "桥头",
    "卫生院旁边",
    "公交站附近",
    "河堤路",
]
ESTATES = [
    "锦绣花园",
    "幸福家园",
    "阳光小区",
    "翠苑小区",
    "东方名城",
    "御景湾",
    "建设小区",
    "文化苑",
    "滨江壹号",
    "和谐家园",
]
ROADS = ["通村公路", "环村路", "西环路", "幸福路", "滨河路", "乡道X203线", "建设路", "工业路"]
SINCE = ["一个多星期", "半个多月", "一个多月", "快两个月", "三个多月", "大半年"]
ASKS = [
    "希望有关部门尽快处理。",
    "请政府帮忙解决。",
    "希望尽快给个答复。",
    "麻烦相关部门管一管。",
    "恳请领导重视。",
    "希望能尽快解决，谢谢！",
]
ISSUES = [
    ("小区垃圾好几天没人清理", "垃圾已日产日清"),
    ("门禁坏了一个月没人修", "门禁系统已修复"),
    ("楼道灯全坏了", "楼道灯已全部更换"),
    ("绿化带没人打理长满杂草", "绿化带已完成修剪清理"),
    ("地下车库漏水", "车库漏水点已完成防水修补"),
]
COUNTS = ["十几", "二十多", "三十多", "八九"]

RETURN_REASONS = [
    "经核实，该事项属于{right}职责，不属于我单位管辖范围，请重新派单。",
    "该事项不在我单位职能范围内，建议派{right}办理。",
]
DISPUTED_RETURN_REASONS = [
    "该路段不在我单位管养范围，请核实后重新派单。",
    "该事项涉及多个部门，我单位无法单独办理。",
]
DISPUTE_NOTES = [
    "经核对派单目录，该事项属于贵单位职责，退单理由不成立。",
    "该事项主责明确，退单理由不充分，请按职责办理。",
]
EXTENSION_REASONS = [
    "需协调供电部门配合施工，且涉及维修资金审批，无法在期限内办结。",
    "涉及多个部门，需组织现场联合踏勘后确定处理方案。",
    "需等待第三方检测报告出具后才能作出处理决定。",
    "当事人外出务工暂时联系不上，需要更多时间调查核实。",
]
PROMOTE_REASONS = [
    "该问题需要整体改造，涉及资金较大，纳入年度为民办实事项目统筹解决。",
    "群众反映集中，需要统筹规划建设，转入实事项目推进。",
]
NOTES = [
    "已电话联系诉求人了解详细情况。",
    "已安排工作人员到现场查看核实。",
    "已约谈相关责任单位，要求限期整改。",
    "已会同乡镇政府开展联合检查。",
]
SATISFIED_COMMENTS = ["", "", "", "处理很及时，谢谢！", "工作人员态度很好。", "问题解决了，点赞！"]
BASIC_COMMENTS = ["", "处理了，但是有点慢。", "基本解决，希望以后多注意。"]
UNSATISFIED_COMMENTS = [
    "问题根本没有解决，答复和实际情况不符。",
    "只是打了个电话，没有人到现场看。",
    "过了几天又是老样子。",
]
