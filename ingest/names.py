"""Chinese names and wording for the demo city: people, places, units, addresses, descriptions.

Every function draws from the caller's ``numpy.random.Generator`` so a seed fixes the text.
The batch forms (``person_names``, ``make_addresses``…) exist because a million Python-level
draws would dominate the generator's run time.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from ingest.reference import CATEGORY_BY_MINOR

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
# Roughly Zipfian: the first surnames (王, 李, 张…) are far more common than the last.
_SURNAME_P = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.8
_SURNAME_P /= _SURNAME_P.sum()
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧玲桂丹萍鹏辉刚平波斌宇浩凯建国文婷雪琳"
    "晨阳欣佳晓红海林峰鑫飞霞燕亮俊志鸿博瑞宁佩颖蕾倩嘉昊睿翔晖荣兰梅淑珍云彬轩泽"
)

STREET_NAMES = ("北关街道", "西湖街道", "东关街道", "南门街道", "钟楼街道",
                "含光街道", "长乐街道", "太白街道")
# Streets whose name says where they lie; the towns (镇) take the outskirts.
STREET_SIDES = {"北关街道": "north", "西湖街道": "west", "东关街道": "east", "南门街道": "south",
                "钟楼街道": "centre"}
TOWN_NAMES = ("雁南镇", "杜曲镇")

COMMUNITY_NAMES = (
    "钟楼社区", "桃园社区", "丰登社区", "红庙坡社区", "星火社区", "龙首社区", "大兴社区",
    "枣园社区", "玉祥门社区", "环城社区", "北院门社区", "西仓社区", "劳动路社区", "青年路社区",
    "莲湖社区", "土门社区", "丰庆社区", "梨园社区", "酒金桥社区", "含光社区", "长乐坊社区",
    "太白社区", "书院门社区", "文昌社区", "柏树林社区", "东仓社区", "端履门社区", "和平门社区",
    "建国路社区", "友谊社区", "长安社区", "雁塔社区", "朱雀社区", "明德社区", "安仁坊社区",
    "永宁社区", "开元社区", "崇德社区", "光华社区", "育才社区", "锦园社区", "和畅社区",
    "翠华社区", "金花社区", "兴庆社区", "咸宁社区", "幸福社区", "胜利社区", "新城社区",
    "东新社区", "尚德社区", "新华社区", "解放社区", "民乐社区", "东五社区", "西五社区",
    "北新社区", "龙渠社区", "丰禾社区", "桃源社区", "景龙社区", "南稍门社区", "大差市社区",
    "建设社区", "长缨社区", "华清社区", "兴华社区", "惠民社区", "文艺社区", "仁和社区",
    "永安社区", "安东社区", "草场坡社区", "湘子庙社区", "竹笆市社区", "粉巷社区", "南院社区",
    "大麦市社区", "湖滨社区", "雁湖社区",
)
VILLAGE_NAMES = (
    "杜家村", "王庄村", "东韦村", "西韦村", "南寨村", "北寨村", "马厂村", "张坡村", "高望村",
    "新庄村", "双桥村", "柳林村", "河池村", "刘家寨村", "皇甫村", "郭杜村", "杨家湾村", "兴隆村",
    "周家庄村", "三里桥村",
)

ROADS = (
    "北大街", "西大街", "东大街", "南大街", "莲湖路", "西一路", "西五路", "东五路", "北关正街",
    "龙首北路", "未央路", "太白北路", "含光路", "长乐路", "环城北路", "环城西路", "劳动路",
    "丰庆路", "桃园路", "大庆路", "红庙坡路", "星火路", "自强路", "北广济街", "洒金桥",
    "大麦市街", "西华门", "甜水井街", "南广济街", "粉巷", "竹笆市", "骡马市", "东木头市",
    "柏树林", "建国路", "和平路", "尚俭路", "尚勤路", "解放路", "东新街", "西新街", "青年路",
    "习武园", "草场坡", "朱雀大街", "友谊西路", "友谊东路", "文艺路", "雁塔路", "兴庆路",
    "咸宁路", "长缨路", "金花路", "幸福路", "华清路", "经九路", "纬十路", "杜城路", "雁南一路",
    "雁南二路", "雁南三路", "雁湖路", "湖滨路", "曲江路", "翠华路", "育才路", "明德路",
    "永宁路", "开元路", "兴华路", "安东街", "南稍门", "书院门", "湘子庙街", "五味什字",
    "北院门", "大学习巷", "西羊市", "枣园东路", "枣园西路",
)

# Units that adopt grids (包抓单位).
UNITS = (
    "区委办公室", "区政府办公室", "区委组织部", "区委宣传部", "区委统战部", "区委政法委",
    "区纪委监委", "区发展和改革委员会", "区教育局", "区科技局", "区民政局", "区司法局",
    "区财政局", "区人力资源和社会保障局", "区住房和城乡建设局", "区城市管理执法局",
    "区交通运输局", "区水务局", "区农业农村局", "区商务局", "区文化和旅游体育局",
    "区卫生健康局", "区退役军人事务局", "区应急管理局", "区审计局", "区市场监督管理局",
    "区统计局", "区医疗保障局", "区信访局", "区数据局", "区国有资产管理中心", "区政务服务中心",
    "区总工会", "团区委", "区妇联", "区残联", "区科协", "区人大常委会办公室", "区政协办公室",
    "区人民法院", "区人民检察院", "区公安分局", "区税务局", "区消防救援大队", "区城市投资集团",
)

# Volunteer team kinds: street-wide teams, then community teams.
STREET_TEAMS = ("红马甲志愿服务队", "新时代文明实践志愿服务队", "平安巡防志愿服务队")
COMMUNITY_TEAMS = ("巾帼志愿服务队", "党员先锋志愿服务队", "银发志愿服务队", "青年志愿服务队",
                   "邻里守望志愿服务队")

HOSPITALS = ("雁湖区人民医院", "雁湖区中医医院", "雁湖区妇幼保健院", "北关医院", "西湖医院",
             "长乐骨科医院", "钟楼口腔医院", "雁南镇中心卫生院", "杜曲镇卫生院")
PHARMACY_BRANDS = ("惠民大药房", "康乐大药房", "仁和堂大药房", "长安大药房", "民生大药房",
                   "百草堂药店", "济世堂药店", "益寿大药房")
CULTURE_SITES = (
    "雁湖书院旧址", "西湖古塔", "北关城隍庙", "明代砖窑遗址", "关中民居群", "唐槐古树",
    "长乐坊石牌坊", "含光门遗址", "太白古井", "南门古戏楼", "东关老邮局旧址", "杜曲古渡口",
    "雁南烽火台遗址", "钟楼街道老城墙段",
)
MUSEUMS = ("雁湖区博物馆", "城墙砖博物馆", "关中民俗博物馆", "秦腔艺术馆", "非遗展示馆",
           "碑刻艺术馆", "城市规划展览馆", "老物件记忆馆")
FEATURE_STREETS = ("北关美食街", "书院门文化街", "湘子庙步行街", "长乐坊民俗街", "西湖夜市",
                   "含光里文创街区", "钟楼老街", "雁湖湖滨步道")

# Places along a road where problems turn up; descriptions start with one.
WHERE = (
    "路口东北角", "路口西南角", "公交站旁", "小区大门口", "人行道上", "商铺门前", "学校门口",
    "非机动车道", "绿化带内", "巷道内", "十字路口", "地铁口附近", "菜市场门口", "医院门口",
    "路东侧", "路西侧", "路南侧", "路北侧", "广场东侧", "桥下",
)

_PHONE_PREFIXES = ("133", "135", "137", "139", "150", "152", "155", "158", "177", "180",
                   "181", "186", "189", "199")


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` plausible Chinese personal names (surname + one or two characters)."""
    surnames = rng.choice(len(_SURNAMES), size=n, p=_SURNAME_P)
    first = rng.integers(len(_GIVEN), size=n)
    second = rng.integers(len(_GIVEN), size=n)
    two = rng.random(n) < 0.7
    return [
        _SURNAMES[s] + _GIVEN[a] + (_GIVEN[b] if t else "")
        for s, a, b, t in zip(surnames.tolist(), first.tolist(), second.tolist(), two.tolist())
    ]


def phone_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` fake 11-digit mobile numbers."""
    prefixes = rng.integers(len(_PHONE_PREFIXES), size=n)
    tails = rng.integers(0, 100_000_000, size=n)
    return [f"{_PHONE_PREFIXES[p]}{t:08d}" for p, t in zip(prefixes.tolist(), tails.tolist())]


def landline_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` fake Xi'an landline numbers (029 + eight digits)."""
    return [f"029-8{t:07d}" for t in rng.integers(0, 10_000_000, size=n).tolist()]


def community_roads(community_name: str) -> tuple[str, ...]:
    """Return the four roads of a community, fixed by its name so addresses stay local."""
    local = np.random.default_rng(zlib.crc32(community_name.encode("utf-8")))
    return tuple(ROADS[i] for i in local.choice(len(ROADS), size=4, replace=False))


def local_roads(rng: np.random.Generator, communities: Sequence[str]) -> list[str]:
    """Return one of each community's own roads."""
    roads = {c: community_roads(c) for c in set(communities)}
    picks = rng.integers(4, size=len(communities)).tolist()
    return [roads[c][k] for c, k in zip(communities, picks)]


def make_addresses(rng: np.random.Generator, streets: Sequence[str], communities: Sequence[str],
                   roads: Sequence[str] | None = None) -> list[str]:
    """Return one address per (street, community) pair: street, community, road and number."""
    roads = local_roads(rng, communities) if roads is None else roads
    numbers = rng.integers(1, 300, size=len(communities)).tolist()
    return [f"{s}{c}{r}{m}号" for s, c, r, m in zip(streets, communities, roads, numbers)]


def make_address(rng: np.random.Generator, street_name: str, community_name: str) -> str:
    """Return one address in the community, e.g. "北关街道龙首社区龙首北路128号"."""
    return make_addresses(rng, [street_name], [community_name])[0]


def make_descriptions(rng: np.random.Generator, minors: Sequence[str]) -> list[str]:
    """Return one Chinese problem description per minor class name."""
    n = len(minors)
    templates = rng.integers(3, size=n).tolist()
    wheres = rng.integers(len(WHERE), size=n).tolist()
    counts = rng.integers(2, 16, size=n).tolist()
    return [CATEGORY_BY_MINOR[m].texts[t].format(where=WHERE[w], n=k)
            for m, t, w, k in zip(minors, templates, wheres, counts)]


def make_description(rng: np.random.Generator, category_minor: str) -> str:
    """Return a description of one problem of the minor class, e.g. "公交站旁有暴露垃圾约3袋"."""
    return make_descriptions(rng, [category_minor])[0]
